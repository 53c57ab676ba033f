"""Decode dbt's manifest.json, of every schema version dbt has written, into a ``Manifest``.

Telling which artifact a document is, and explaining decoder errors, is ``identify``'s job.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from recce_trio.core.artifacts.identify import (
    ArtifactId,
    Document,
    check_artifact,
    explain_failure,
    identify,
    parse_schema_url,
    read_artifact_bytes,
    sniff_head,
)
from recce_trio.core.artifacts.records import (
    TEST_CONFIG_MODIFIERS,
    Catalog,
    DependsOn,
    Macro,
    Manifest,
    ManifestMetadata,
    Node,
    TestMetadata,
)

# 0 stands for the manifests of dbt before 0.19, which carry no dbt_schema_version.
# v20 was written by early dbt Fusion previews (later previews write v12 again).
SUPPORTED_MANIFEST_VERSIONS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20)


def decode_manifest(data: Document, *, path: Path | str) -> Manifest:
    """Decode manifest.json bytes of any supported schema version; ``path`` is only for messages.

    Raises ``ArtifactDecodeError``, ``NotADbtArtifactError`` or ``UnsupportedSchemaVersionError``.
    """
    manifest, head = decode_typed(
        data, type_=Manifest, want="manifest", supported=SUPPORTED_MANIFEST_VERSIONS, path=path
    )
    if manifest.schema_version == 0:
        _normalise_pre_v1(manifest, generated_at=head.generated_at)
    _slim_tests(manifest)
    return manifest


def _slim_tests(manifest: Manifest) -> None:
    """Slim every generic data test of ``manifest`` (see ``slim_test``)."""
    nodes = manifest.nodes
    for uid, node in nodes.items():
        nodes[uid] = slim_test(node)


def slim_test(node: Node) -> Node:
    """Keep of a generic data test only what the server uses: its place in the graph, the
    column it marks (not_null/unique), and what dbt's state:modified compares for it (fqn and
    a few config keys). Generic tests are most of a big project's nodes and the API never
    returns them, so their SQL, configs and docs would only cost memory and time. Other nodes
    (singular tests among them: dbt compares those like models) are returned as they are.
    """
    meta = node.test_metadata
    if node.resource_type != "test" or meta is None:
        return node
    column = meta.kwargs.get("column_name")
    kwargs = {"column_name": column} if isinstance(column, str) else {}
    config = node.unrendered_config
    return Node(
        unique_id=node.unique_id,
        resource_type="test",
        name=node.name,
        package_name=node.package_name,
        fqn=node.fqn,
        unrendered_config={k: config[k] for k in TEST_CONFIG_MODIFIERS if k in config},
        depends_on=node.depends_on,
        test_metadata=TestMetadata(name=meta.name, namespace=meta.namespace, kwargs=kwargs),
        column_name=node.column_name,
        attached_node=node.attached_node,
    )


RECORD_SECTIONS = (
    "nodes",
    "functions",
    "sources",
    "exposures",
    "metrics",
    "semantic_models",
    "saved_queries",
    "unit_tests",
)


class _Skeleton(msgspec.Struct):
    """A manifest whose records are left as raw JSON, to be decoded a few at a time."""

    metadata: ManifestMetadata = msgspec.field(default_factory=ManifestMetadata)
    nodes: dict[str, msgspec.Raw] = {}
    functions: dict[str, msgspec.Raw] = {}
    sources: dict[str, msgspec.Raw] = {}
    exposures: dict[str, msgspec.Raw] = {}
    metrics: dict[str, msgspec.Raw] = {}
    semantic_models: dict[str, msgspec.Raw] = {}
    saved_queries: dict[str, msgspec.Raw] = {}
    unit_tests: dict[str, msgspec.Raw] = {}
    macros: dict[str, msgspec.Raw] = {}


class _TestKwargs(msgspec.Struct, gc=False):
    column_name: Any = None


class _TestMetadata(msgspec.Struct, gc=False):
    name: str = ""
    namespace: str | None = None
    kwargs: _TestKwargs = msgspec.field(default_factory=_TestKwargs)


class _GenericTest(msgspec.Struct, gc=False):
    """The fields of a test that ``slim_test`` keeps, decoded straight from its JSON: the
    rest of a generic test (SQL, compiled SQL, configs, docs: half of a big manifest's bytes)
    is skipped by the parser instead of being built and thrown away."""

    unique_id: str
    resource_type: str = ""
    name: str = ""
    package_name: str = ""
    fqn: list[str] = []
    unrendered_config: dict[str, Any] = {}
    depends_on: DependsOn = msgspec.field(default_factory=DependsOn)
    test_metadata: _TestMetadata | None = None
    column_name: str | None = None
    attached_node: str | None = None


class _WireConfig(msgspec.Struct, gc=False, omit_defaults=True):
    """The config keys of a generic test that ``slim_test`` keeps (``TEST_CONFIG_MODIFIERS``);
    the parser skips the others. An absent key stays absent (UNSET is never encoded)."""

    severity: Any = msgspec.UNSET
    where: Any = msgspec.UNSET
    limit: Any = msgspec.UNSET
    fail_calc: Any = msgspec.UNSET
    warn_if: Any = msgspec.UNSET
    error_if: Any = msgspec.UNSET
    store_failures: Any = msgspec.UNSET
    store_failures_as: Any = msgspec.UNSET


class _WireKwargs(msgspec.Struct, gc=False, omit_defaults=True):
    column_name: Any = msgspec.UNSET


class _WireTestMetadata(msgspec.Struct, gc=False, omit_defaults=True):
    name: str = ""
    namespace: str | None = None
    kwargs: _WireKwargs = msgspec.field(default_factory=_WireKwargs)


class WireTest(msgspec.Struct, gc=False, omit_defaults=True):
    """A generic data test already in ``slim_test``'s form, straight from its JSON, for a
    decoder process to send on as it is (``iter_manifest(compact_tests=True)``): its fields
    and their defaults are ``Node``'s, so msgpack of it decodes into the same ``Node`` that
    ``slim_test`` makes, without building a ``Node`` here first."""

    unique_id: str
    resource_type: str = ""
    name: str = ""
    package_name: str = ""
    fqn: list[str] = []
    unrendered_config: _WireConfig | msgspec.UnsetType = msgspec.UNSET
    depends_on: DependsOn = msgspec.field(default_factory=DependsOn)
    test_metadata: _WireTestMetadata | None = None
    column_name: str | None = None
    attached_node: str | None = None


_skeleton = msgspec.json.Decoder(_Skeleton)
_node = msgspec.json.Decoder(Node)
_generic_test = msgspec.json.Decoder(_GenericTest)
_wire_test = msgspec.json.Decoder(WireTest)
_macro = msgspec.json.Decoder(Macro)


def _decode_wire_node(uid: str, raw: msgspec.Raw) -> Node | WireTest:
    """``_decode_node``, but a generic test comes as a ``WireTest`` (the same content)."""
    if uid.startswith("test."):
        test = _wire_test.decode(raw)
        meta = test.test_metadata
        if test.resource_type == "test" and meta is not None:
            column = meta.kwargs.column_name
            if column is not msgspec.UNSET and not isinstance(column, str):
                meta.kwargs.column_name = msgspec.UNSET  # slim_test keeps a string only
            return test
    return slim_test(_node.decode(raw))


def _decode_node(uid: str, raw: msgspec.Raw) -> Node:
    """One record of the ``nodes`` section, a generic test slimmed as ``slim_test`` does.

    Only generic tests take the short path (their ids start with ``test.``); anything else
    there, a singular test included, is decoded whole. The short path checks the types of
    the fields it keeps, not of those it skips (a test's ``config``, say), which no one reads.
    """
    if uid.startswith("test."):
        test = _generic_test.decode(raw)
        meta = test.test_metadata
        if test.resource_type == "test" and meta is not None:
            column = meta.kwargs.column_name
            config = test.unrendered_config
            return Node(
                unique_id=test.unique_id,
                resource_type="test",
                name=test.name,
                package_name=test.package_name,
                fqn=test.fqn,
                unrendered_config={k: config[k] for k in TEST_CONFIG_MODIFIERS if k in config},
                depends_on=test.depends_on,
                test_metadata=TestMetadata(
                    name=meta.name,
                    namespace=meta.namespace,
                    kwargs={"column_name": column} if isinstance(column, str) else {},
                ),
                column_name=test.column_name,
                attached_node=test.attached_node,
            )
    return slim_test(_node.decode(raw))


Chunk = tuple[str, list[tuple[str, Any]]]


def iter_manifest(
    data: Document, *, path: Path | str, chunk: int = 256, compact_tests: bool = False
) -> Iterator[Manifest | Chunk]:
    """The same content as ``decode_manifest``, delivered in pieces: first the manifest with
    its record sections empty, then ``(section, [(unique_id, record), ...])`` chunks (section
    "macros" holds ``Macro`` records). Decoding record by record lets a caller pass records
    on while the rest is still being decoded (see ``server/decoders.py``).

    ``compact_tests``: generic tests come as ``WireTest`` records, for a caller that only
    encodes them to msgpack (a third cheaper to make than ``Node``; decoded as ``Node``).
    """
    head = sniff_head(data)
    if head is None or head.schema_version == 0:
        # Metadata at the end (Fusion v20) or before v1: small files; decode them whole.
        whole = decode_manifest(data, path=path)
        sections = {
            name: list(getattr(whole, name).items()) for name in (*RECORD_SECTIONS, "macros")
        }
        yield msgspec.structs.replace(whole, **{name: {} for name in sections})
        for name, items in sections.items():
            for start in range(0, len(items), chunk):
                yield name, items[start : start + chunk]
        return
    version = check_artifact(
        head, want="manifest", supported=SUPPORTED_MANIFEST_VERSIONS, path=path
    )
    try:
        skeleton = _skeleton.decode(data)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise explain_failure(
            exc, data, want="manifest", supported=SUPPORTED_MANIFEST_VERSIONS, path=path
        ) from None
    yield Manifest(metadata=skeleton.metadata, schema_version=version)
    for name in (*RECORD_SECTIONS, "macros"):
        raws: dict[str, msgspec.Raw] = getattr(skeleton, name)
        pending = iter(raws.items())
        while batch := list(itertools.islice(pending, chunk)):
            try:
                records: list[tuple[str, Any]]
                if name == "nodes":
                    decode_node = _decode_wire_node if compact_tests else _decode_node
                    records = [(uid, decode_node(uid, raw)) for uid, raw in batch]
                elif name == "macros":
                    records = [(uid, _macro.decode(raw)) for uid, raw in batch]
                else:
                    records = [(uid, _node.decode(raw)) for uid, raw in batch]
            except (msgspec.DecodeError, RecursionError) as exc:
                raise explain_failure(
                    exc, data, want="manifest", supported=SUPPORTED_MANIFEST_VERSIONS, path=path
                ) from None
            yield name, records


def read_manifest(path: Path) -> Manifest:
    """Read and decode a manifest.json file."""
    return decode_manifest(read_artifact_bytes(path, kind="manifest"), path=path)


def _normalise_pre_v1(manifest: Manifest, *, generated_at: str | None) -> None:
    # Before v1, generated_at sat at the top level, and dbt before 0.17 kept sources in nodes.
    if manifest.metadata.generated_at is None:
        manifest.metadata.generated_at = generated_at
    sources = {uid: n for uid, n in manifest.nodes.items() if n.resource_type == "source"}
    if sources:
        manifest.nodes = {uid: n for uid, n in manifest.nodes.items() if uid not in sources}
        manifest.sources = {**manifest.sources, **sources}


# --- shared with catalog.py ------------------------------------------------------------------


_Artifact = TypeVar("_Artifact", Manifest, Catalog)


def decode_typed(
    data: Document,
    *,
    type_: type[_Artifact],
    want: str,
    supported: tuple[int, ...],
    path: Path | str,
) -> tuple[_Artifact, ArtifactId]:
    """One typed decode of a manifest or catalog, with its kind and version checked: before
    the decode from the first bytes where they tell, after it otherwise (Fusion's v20 writes
    metadata last; pre-v1 files have none). Sets ``schema_version``."""
    head = sniff_head(data)
    if head is not None:
        # Refuse another artifact or version before the expensive decode.
        check_artifact(head, want=want, supported=supported, path=path)
    try:
        artifact = msgspec.json.decode(data, type=type_)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise explain_failure(exc, data, want=want, supported=supported, path=path) from None
    if head is None:
        schema_url = artifact.metadata.dbt_schema_version
        if schema_url is not None:
            head = parse_schema_url(schema_url, dbt_version=artifact.metadata.dbt_version)
        else:
            # Before v1 (or not a dbt artifact at all): look at the top-level keys.
            head = identify(data, path=path)
    artifact.schema_version = check_artifact(head, want=want, supported=supported, path=path)
    return artifact, head
