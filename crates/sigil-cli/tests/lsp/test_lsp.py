"""`sigil lsp` driven end to end by a real LSP client (pytest-lsp / pygls) over stdio.

Run by `crates/sigil-cli/tests/lsp.rs`, which passes the binary as SIGIL_BIN.
"""

import json
import os
import pathlib
import subprocess
import tempfile

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SIGIL = os.environ["SIGIL_BIN"]
WORKSPACE = pathlib.Path(tempfile.mkdtemp(prefix="sigil-lsp-"))

RULE = """\
title: WMIC Process Call Create
id: 929a690e-bef0-4204-a928-ef5e620d6fcc
related:
    - id: 5c9e8b5f-7b0c-4a4b-9a52-0d0c6b7b1a11
      type: similar
status: test
level: high
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|contain: '\\wmic.exe'
        CommandLine|contains: 'process call create'
    condition: selection
tags:
    - attack.execution
    - attack.t1047
"""

OTHER = """\
title: Another WMIC Rule
id: 5c9e8b5f-7b0c-4a4b-9a52-0d0c6b7b1a11
status: test
level: low
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\wmic.exe'
    condition: selection
"""


def line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines()):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in the text")


def position_of(text: str, needle: str, offset: int = 0) -> types.Position:
    line = line_of(text, needle)
    return types.Position(
        line=line, character=text.splitlines()[line].index(needle) + offset
    )


def apply_edits(text: str, edits: list) -> str:
    """Applies LSP text edits (UTF-16 positions; the rules here are ASCII)."""
    lines = text.splitlines(keepends=True)

    def offset(p):
        return sum(len(l) for l in lines[: p.line]) + p.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[SIGIL, "lsp", "--stdio"]))
async def client(lsp_client: LanguageClient):
    (WORKSPACE / "other.yml").write_text(OTHER)
    # A file of the workspace that is not UTF-8 must not stop the workspace scan.
    (WORKSPACE / "latin1.yml").write_bytes(b"title: caf\xe9\nid: x\n")
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        root_uri=WORKSPACE.as_uri(),
        workspace_folders=[
            types.WorkspaceFolder(uri=WORKSPACE.as_uri(), name="rules")
        ],
    )
    result = await lsp_client.initialize_session(params)
    assert result.server_info.name == "sigil"
    yield
    await lsp_client.shutdown_session()


async def open_doc(client: LanguageClient, name: str, text: str, version: int = 1):
    uri = (WORKSPACE / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="yaml", version=version, text=text
            )
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


@pytest.mark.asyncio
async def test_an_unknown_modifier_is_reported_on_its_line_and_column(
    client: LanguageClient,
):
    uri = await open_doc(client, "rule.yml", RULE)
    found = [d for d in client.diagnostics[uri] if d.code == "unknown-modifier"]
    assert len(found) == 1, client.diagnostics[uri]
    d = found[0]
    assert d.range.start == position_of(RULE, "contain:")
    assert d.range.end == position_of(RULE, "contain:", len("contain"))
    assert d.severity == types.DiagnosticSeverity.Error
    assert d.source == "sigil"
    assert "contain" in d.message


@pytest.mark.asyncio
async def test_completion_after_a_bar_offers_the_modifiers(client: LanguageClient):
    text = RULE.replace("Image|contain: '\\\\wmic.exe'", "Image|")
    uri = await open_doc(client, "typing.yml", text)
    at = position_of(text, "Image|", len("Image|"))
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=at
        )
    )
    items = result.items if hasattr(result, "items") else result
    labels = [i.label for i in items]
    assert "endswith" in labels, labels
    assert "contains" in labels
    # Only modifiers that keep the chain valid: a regex flag needs `re` first.
    assert "i" not in labels


@pytest.mark.asyncio
async def test_completion_of_a_field_name_offers_the_logsources_fields(
    client: LanguageClient,
):
    text = RULE.replace("Image|contain: '\\wmic.exe'", "Paren")
    assert "Paren" in text
    uri = await open_doc(client, "fields.yml", text)
    at = position_of(text, "Paren", len("Paren"))
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=at
        )
    )
    items = result.items if hasattr(result, "items") else result
    by_label = {i.label: i for i in items}
    # SigmaHQ's taxonomy for process_creation lists these; the pipelines map them too.
    for field in ("ParentImage", "ParentCommandLine", "OriginalFileName"):
        assert field in by_label, sorted(by_label)
    assert "SigmaHQ taxonomy" in by_label["ParentImage"].detail
    assert "ecs_windows" in by_label["ParentImage"].detail


@pytest.mark.asyncio
async def test_hover_on_an_attack_tag_names_the_technique(client: LanguageClient):
    uri = await open_doc(client, "hover.yml", RULE)
    result = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(RULE, "attack.t1047", 9),
        )
    )
    assert "Windows Management Instrumentation" in result.contents.value
    assert "Execution" in result.contents.value


@pytest.mark.asyncio
async def test_hover_on_a_field_and_on_the_condition(client: LanguageClient):
    uri = await open_doc(client, "hover2.yml", RULE)
    field = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(RULE, "CommandLine|", 2),
        )
    )
    assert "process.command_line" in field.contents.value, field.contents.value
    conversion = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(RULE, "condition:", 2),
        )
    )
    # The rule reads with an unknown modifier only as far as it reads: the hover says so
    # or shows the query; either way it answers.
    assert conversion is not None


@pytest.mark.asyncio
async def test_go_to_definition_from_the_condition_and_a_related_id(
    client: LanguageClient,
):
    uri = await open_doc(client, "definition.yml", RULE)
    result = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(RULE, "condition: selection", len("condition: s")),
        )
    )
    assert len(result) == 1
    assert result[0].uri == uri
    assert result[0].range.start.line == line_of(RULE, "    selection:")
    related = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(RULE, "5c9e8b5f", 3),
        )
    )
    assert len(related) == 1, related
    assert related[0].uri == (WORKSPACE / "other.yml").as_uri()
    assert related[0].range.start.line == line_of(OTHER, "id:")


@pytest.mark.asyncio
async def test_document_symbols_are_the_searches_and_the_condition(
    client: LanguageClient,
):
    uri = await open_doc(client, "symbols.yml", RULE)
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert [s.name for s in result] == ["detection"]
    assert [c.name for c in result[0].children] == ["selection", "condition"]


@pytest.mark.asyncio
async def test_a_quick_fix_applied_makes_the_diagnostic_go(client: LanguageClient):
    uri = await open_doc(client, "fix.yml", RULE)
    d = next(d for d in client.diagnostics[uri] if d.code == "unknown-modifier")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=d.range,
            context=types.CodeActionContext(diagnostics=[d]),
        )
    )
    fixes = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    assert fixes, actions
    fix = fixes[0]
    assert "contains" in fix.title
    fixed = apply_edits(RULE, fix.edit.changes[uri])
    assert "Image|contains: '\\wmic.exe'" in fixed
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    codes = [d.code for d in client.diagnostics[uri]]
    assert "unknown-modifier" not in codes, codes


@pytest.mark.asyncio
async def test_requests_for_a_file_never_opened_are_answered(client: LanguageClient):
    uri = (WORKSPACE / "never-opened.yml").as_uri()
    doc = types.TextDocumentIdentifier(uri=uri)
    at = types.Position(line=3, character=4)
    assert (
        await client.text_document_hover_async(
            types.HoverParams(text_document=doc, position=at)
        )
        is None
    )
    assert (
        await client.text_document_completion_async(
            types.CompletionParams(text_document=doc, position=at)
        )
        is None
    )
    assert (
        await client.text_document_definition_async(
            types.DefinitionParams(text_document=doc, position=at)
        )
        is None
    )
    assert (
        await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=doc)
        )
        is None
    )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="x")],
        )
    )
    # Still serving.
    uri = await open_doc(client, "after.yml", RULE)
    assert client.diagnostics[uri]


@pytest.mark.asyncio
async def test_a_50_mb_document_is_reported_not_fatal(client: LanguageClient):
    big = RULE + "# " + "x" * (50 * 1024 * 1024) + "\n"
    uri = await open_doc(client, "big.yml", big)
    codes = [d.code for d in client.diagnostics[uri]]
    assert codes == ["file-too-large"], codes
    at = types.Position(line=line_of(RULE, "Image|"), character=14)
    await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at)
    )
    await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at)
    )
    # Positions far past the end are clamped, not fatal.
    await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=10**6, character=10**6),
        )
    )
    small = await open_doc(client, "small.yml", RULE)
    assert client.diagnostics[small]


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def message(obj) -> bytes:
    return frame(json.dumps(obj).encode())


def test_invalid_utf8_and_malformed_frames_do_not_stop_the_server():
    """Bytes no JSON library would send, written on the wire directly."""
    did_open = (
        b'{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":'
        b'{"uri":"file:///tmp/latin1.yml","languageId":"yaml","version":1,"text":'
        + json.dumps(RULE.replace("WMIC", "WMIC caf\u00e9"), ensure_ascii=False)
        .encode()
        .replace("\u00e9".encode(), b"\xe9")
        + b"}}}"
    )
    assert b"\xe9" in did_open
    stream = b"".join(
        [
            message(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {"processId": None, "rootUri": None, "capabilities": {}},
                }
            ),
            message({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
            frame(did_open),
            frame(b"{this is not json"),
            frame(b'{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":"\xff\xfe"}'),
            b"Content-Length: many\r\n\r\n",
            frame(b'{"jsonrpc":"2.0","method":"x","params":{"s":"\\udc80"}}'),
            message(
                {
                    "jsonrpc": "2.0",
                    "id": 3,
                    "method": "textDocument/hover",
                    "params": {
                        "textDocument": {"uri": "file:///tmp/latin1.yml"},
                        "position": {"line": line_of(RULE, "attack.t1047"), "character": 10},
                    },
                }
            ),
            message({"jsonrpc": "2.0", "id": 4, "method": "shutdown"}),
            message({"jsonrpc": "2.0", "method": "exit"}),
        ]
    )
    done = subprocess.run(
        [SIGIL, "lsp"], input=stream, capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    out = done.stdout
    replies = []
    while out:
        head, _, rest = out.partition(b"\r\n\r\n")
        length = int(head.split(b":")[1])
        replies.append(json.loads(rest[:length]))
        out = rest[length:]
    by_id = {r.get("id"): r for r in replies if "id" in r}
    assert "result" in by_id[1]
    # The document with an invalid byte was read (as U+FFFD) and checked.
    published = [r for r in replies if r.get("method") == "textDocument/publishDiagnostics"]
    assert published and published[0]["params"]["uri"] == "file:///tmp/latin1.yml"
    assert "error" in by_id[2]
    assert "Windows Management Instrumentation" in by_id[3]["result"]["contents"]["value"]
    assert by_id[4]["result"] is None
    parse_errors = [r for r in replies if r.get("id") is None and "error" in r]
    assert len(parse_errors) >= 2, replies
