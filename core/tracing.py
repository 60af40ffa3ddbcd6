"""Traces: OpenTelemetry spans that follow a job from its HTTP request to its end.

Off unless the standard variables ask for it (`configure_tracing`); while off,
every span is one shared `nullcontext` and no SDK, exporter or middleware is
loaded.
The process's tracer lives here rather than in OpenTelemetry's global provider,
which can be set only once per process: tests install one and take it away.

A job's trace crosses processes as a W3C `traceparent`: the API passes the one
of its enqueue span with the job to the queue (arq's job kwargs, or the
in-process runner's memory), and the worker's task span continues it.
"""

import functools
import os
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ParamSpec, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

P = ParamSpec("P")
R = TypeVar("R")
TRACER_NAME = "darkroom"
EXPORTERS = ("otlp", "console")
_PROPAGATOR = TraceContextTextMapPropagator()


class _State:
    def __init__(self) -> None:
        self.provider: TracerProvider | None = None
        self.tracer: Tracer = trace.NoOpTracer()


_state = _State()
_OFF = nullcontext(trace.INVALID_SPAN)  # reusable: it holds no state


def install(provider: TracerProvider | None) -> None:
    """Trace through `provider` from now on; None turns tracing off."""
    _state.provider = provider
    _state.tracer = (
        trace.NoOpTracer() if provider is None else provider.get_tracer(TRACER_NAME)
    )


def provider() -> TracerProvider | None:
    """The provider in use, None while tracing is off."""
    return _state.provider


def enabled() -> bool:
    """True while spans are recorded."""
    return _state.provider is not None


def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: Context | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> AbstractContextManager[Span]:
    """A span current for the block: a child of `parent`, else of the current one."""
    if _state.provider is None:
        return _OFF  # cheaper still than the no-op tracer
    return _state.tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes=attributes
    )


def traced(
    name: str, *, kind: SpanKind = SpanKind.INTERNAL
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Run each call of an async function in a span of its own."""

    def decorate(
        fn: Callable[P, Awaitable[R]],
    ) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(fn)
        async def call(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(name, kind=kind):
                return await fn(*args, **kwargs)

        return call

    return decorate


def annotate(key: str, value: AttributeValue) -> None:
    """Set an attribute on the current span (nothing while off)."""
    trace.get_current_span().set_attribute(key, value)


def span_off() -> AbstractContextManager[Span]:
    """No span, where a caller records none for some of its calls."""
    return _OFF


def record_span(name: str, start_ns: int, end_ns: int, parent: Context) -> None:
    """A span that already ran (times from time.time_ns()), under `parent`."""
    done = _state.tracer.start_span(name, context=parent, start_time=start_ns)
    done.end(end_time=end_ns)


def current_context() -> Context:
    """The context of the current span, to parent spans made elsewhere."""
    return otel_context.get_current()


def traceparent() -> str | None:
    """The current span as a W3C traceparent; None while off or outside a span."""
    if _state.provider is None:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def continued(traceparent: str | None) -> Context | None:
    """The context a traceparent carries on; None (a new trace) without one."""
    if traceparent is None or _state.provider is None:
        return None
    return _PROPAGATOR.extract({"traceparent": traceparent})


class TracingConfigError(ValueError):
    """OTEL_* variables that ask for something this build cannot do."""


def configure_tracing(
    service_name: str, environ: Mapping[str, str] = os.environ
) -> bool:
    """Turn tracing on when the OTEL_* variables ask for it; True if they did.

    On when OTEL_TRACES_EXPORTER names `otlp` or `console` (comma-separated), or
    names none but OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT is set
    (then `otlp`). Off when unset, `none`, or OTEL_SDK_DISABLED=true. The SDK
    reads the rest itself: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (else
    `service_name`), OTEL_TRACES_SAMPLER, OTEL_BSP_*, and the exporter's
    OTEL_EXPORTER_OTLP_* endpoint, headers and timeout.
    """
    names = _exporter_names(environ)
    if not names:
        return False
    protocol = environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    )
    if "otlp" in names and protocol != "http/protobuf":
        raise TracingConfigError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf (the exporter"
            f" installed); got {protocol!r}"
        )
    # Loaded only when on: a process that does not trace never imports the SDK.
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service_name}))
    sdk = SdkTracerProvider(resource=resource)
    for name in names:
        exporter: SpanExporter
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )

            exporter = OTLPSpanExporter()
        else:
            exporter = ConsoleSpanExporter(service_name=service_name)
        # Exports off the request's path, on the processor's own thread.
        sdk.add_span_processor(BatchSpanProcessor(exporter))
    install(sdk)
    return True


def _exporter_names(environ: Mapping[str, str]) -> list[str]:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    given = environ.get("OTEL_TRACES_EXPORTER", "")
    names = [n.strip().lower() for n in given.split(",") if n.strip()]
    unknown = [n for n in names if n not in (*EXPORTERS, "none")]
    if unknown:
        raise TracingConfigError(
            f"OTEL_TRACES_EXPORTER must name otlp, console or none; got {given!r}"
        )
    if "none" in names:
        return []
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not names and endpoint:
        return ["otlp"]
    return names
