"""Shape limits: depth, aliases and expanded size, each fragment measured once.

Strawberry's depth and alias limiters, and graphql-core's validation, walk a
fragment again at every spread of it. A document whose fragments each spread the
next one twice is small to send but 2^n to walk: 20 levels took 15 s, 40 never
finished, and the event loop (so /healthz too) waited meanwhile. Here each fragment
is measured once and its figures reused, so any document is measured in time linear
in its length, and one that expands past the limits is refused before anything
else walks it.
"""

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from core.errors import ErrorCode

MAX_DEPTH = 12
MAX_ALIASES = 30
# Fields once every fragment is written out in place. GraphiQL's introspection
# query expands to 220; a client's real query rarely passes 200.
MAX_FIELDS = 5_000
# One response key asked for again and again in one selection set: graphql-core
# compares such fields pairwise, so 500 copies of `models { id }` cost 0.8 s.
MAX_REPEATS = 50


@dataclass(frozen=True)
class Shape:
    """What a selection set amounts to once its fragments are written out."""

    depth: int = 0  # nested object fields; introspection (__schema...) not counted
    aliases: int = 0
    fields: int = 0
    repeats: int = 0  # the most fields sharing a response key in one selection set
    repeated: str = ""  # that response key

    def __add__(self, other: "Shape") -> "Shape":
        most = self if self.repeats >= other.repeats else other
        return Shape(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.fields + other.fields,
            most.repeats,
            most.repeated,
        )


class _Measure:
    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, Shape] = {}
        self.open: set[str] = set()  # fragments being measured: a cycle is invalid

    def selection_set(self, node: SelectionSetNode) -> Shape:
        keys = Counter(_response_keys(node))
        total = Shape()
        if keys:
            key, count = keys.most_common(1)[0]
            total = Shape(repeats=count, repeated=key)
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def field(self, node: FieldNode) -> Shape:
        alias = 1 if node.alias else 0
        if node.selection_set is None:
            return Shape(0, alias, 1)
        inner = self.selection_set(node.selection_set)
        # Introspection nests deeply by design (GraphiQL's TypeRef); its cost and
        # size still count.
        depth = 0 if node.name.value.startswith("__") else 1 + inner.depth
        return Shape(
            depth,
            alias + inner.aliases,
            1 + inner.fields,
            inner.repeats,
            inner.repeated,
        )

    def fragment(self, name: str) -> Shape:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return Shape()  # unknown or cyclic: validation reports it
        self.open.add(name)
        shape = self.memo[name] = self.selection_set(definition.selection_set)
        self.open.discard(name)
        return shape


def _response_keys(node: SelectionSetNode) -> Iterator[str]:
    """Keys of the fields a selection set asks for directly or in inline fragments."""
    for selection in node.selections:
        if isinstance(selection, FieldNode):
            yield (selection.alias or selection.name).value
        elif isinstance(selection, InlineFragmentNode):
            yield from _response_keys(selection.selection_set)


def measure(document: DocumentNode) -> Shape:
    """The shape of every operation in the document together."""
    fragments = {
        d.name.value: d
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    measurer = _Measure(fragments)
    total = Shape()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            total += measurer.selection_set(definition.selection_set)
    return total


def problems(shape: Shape) -> Iterator[str]:
    """What is over a limit, in words."""
    if shape.depth > MAX_DEPTH:
        yield f"the operation nests {shape.depth} levels deep; at most {MAX_DEPTH}"
    if shape.aliases > MAX_ALIASES:
        yield f"the operation uses {shape.aliases} aliases; at most {MAX_ALIASES}"
    if shape.repeats > MAX_REPEATS:
        yield (
            f"the field `{shape.repeated}` is asked for {shape.repeats} times in one "
            f"selection; at most {MAX_REPEATS}"
        )
    if shape.fields > MAX_FIELDS:
        yield (
            f"the operation expands to {shape.fields:,} fields once its fragments "
            f"are written out; at most {MAX_FIELDS:,}"
        )


class ShapeLimits(SchemaExtension):
    """Refuse documents over the depth, alias or size limits before validation.

    Errors set here before validation make Strawberry skip validation altogether,
    so no other rule ever walks an exploding document.
    """

    def on_validate(self) -> Iterator[None]:
        """Measure, then refuse or let validation run."""
        ec = self.execution_context
        if ec.graphql_document is not None and ec.pre_execution_errors is None:
            try:
                found = list(problems(measure(ec.graphql_document)))
            except RecursionError:  # thousands of nested brackets
                found = ["the operation nests too deeply"]
            if found:
                ec.pre_execution_errors = [
                    GraphQLError(
                        "; ".join(found),
                        extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value},
                    )
                ]
        yield
