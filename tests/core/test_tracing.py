"""Tracing's switch: the standard OTEL_* variables, off unless they ask."""

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from core import tracing
from core.tracing import TracingConfigError, configure_tracing


@pytest.fixture(autouse=True)
def tracing_off_after() -> Iterator[None]:
    yield
    provider = tracing.provider()
    tracing.install(None)
    if isinstance(provider, TracerProvider):
        provider.shutdown()


def service_name() -> object:
    provider = tracing.provider()
    assert isinstance(provider, TracerProvider)
    return provider.resource.attributes["service.name"]


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"OTEL_TRACES_EXPORTER": "none"},
        {
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
        },
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"},
        {"OTEL_SERVICE_NAME": "api"},  # a name alone exports nothing
    ],
)
def test_tracing_stays_off_unless_an_exporter_is_asked_for(environ) -> None:
    assert configure_tracing("darkroom-api", environ) is False
    assert not tracing.enabled()
    with tracing.span("submit"):
        assert tracing.traceparent() is None


def test_an_otlp_endpoint_turns_tracing_on_with_the_default_service_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Sampled out, so that nothing is sent to the collector that is not there.
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert configure_tracing("darkroom-worker", environ) is True
    assert tracing.enabled()
    assert service_name() == "darkroom-worker"
    with tracing.span("submit"):
        parent = tracing.traceparent()
    assert parent is not None
    assert parent.startswith("00-")


def test_otel_service_name_wins_over_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The SDK's resource reads the process environment itself.
    monkeypatch.setenv("OTEL_SERVICE_NAME", "darkroom-eu")
    assert configure_tracing("darkroom-api", {"OTEL_TRACES_EXPORTER": "console"})
    assert service_name() == "darkroom-eu"


def test_a_traceparent_continues_in_another_context() -> None:
    configure_tracing("darkroom-api", {"OTEL_TRACES_EXPORTER": "console"})
    with tracing.span("enqueue") as sent:
        parent = tracing.traceparent()
    with tracing.span("run", parent=tracing.continued(parent)) as received:
        pass
    assert received.get_span_context().trace_id == sent.get_span_context().trace_id
    assert tracing.continued(None) is None


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER"),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
    ],
)
def test_what_this_build_cannot_export_is_refused_by_name(environ, named) -> None:
    with pytest.raises(TracingConfigError, match=named):
        configure_tracing("darkroom-api", environ)
    assert not tracing.enabled()
