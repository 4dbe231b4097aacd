//! The server's state and its answer to each message.
//!
//! [`Server::handle`] takes one message and returns the messages to send: responses, and
//! diagnostics published after a document changes. It owns no I/O, so tests drive it
//! directly and [`crate::run`] wires it to standard input and output. Every request and
//! notification is handled under `catch_unwind`: a bug met on one request is answered
//! with an error and the session goes on.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOptions, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, CompletionOptions, CompletionParams, CompletionResponse,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams, GotoDefinitionResponse,
    Hover, HoverContents, HoverParams, HoverProviderCapability, InitializeParams, InitializeResult,
    Location, MarkupContent, MarkupKind, NumberOrString, OneOf, PositionEncodingKind,
    PublishDiagnosticsParams, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextEdit, Uri, WorkspaceEdit,
};
use serde_json::Value;
use sigil_core::Severity;

use crate::document::{Document, Language};
use crate::navigate::{Target, Workspace};
use crate::text::{Encoding, path_to_uri, uri_to_path};
use crate::{complete, hover, navigate};

/// The target a hover converts the rule to, unless the client says otherwise
/// (`initializationOptions: {"target": "..."}`).
pub const DEFAULT_TARGET: &str = "splunk";

/// The language server.
#[derive(Debug)]
pub struct Server {
    docs: HashMap<String, Document>,
    encoding: Encoding,
    roots: Vec<PathBuf>,
    workspace: Option<Workspace>,
    target: String,
    selection: sigil_sigma::lint::Selection,
    shut_down: bool,
    exited: bool,
}

impl Default for Server {
    fn default() -> Self {
        Self {
            docs: HashMap::new(),
            encoding: Encoding::Utf16,
            roots: Vec::new(),
            workspace: None,
            target: DEFAULT_TARGET.to_string(),
            selection: sigil_sigma::lint::Selection::defaults(),
            shut_down: false,
            exited: false,
        }
    }
}

/// A request's failure: a JSON-RPC error code and message.
type Failure = (i32, String);

fn invalid_params(e: impl std::fmt::Display) -> Failure {
    (ErrorCode::InvalidParams as i32, e.to_string())
}

fn params<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Failure> {
    serde_json::from_value(value).map_err(invalid_params)
}

fn to_value(v: impl serde::Serialize) -> Result<Value, Failure> {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError as i32, e.to_string()))
}

impl Server {
    /// A server before `initialize`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the client said `exit`.
    pub fn exited(&self) -> bool {
        self.exited
    }

    /// Whether the client asked for `shutdown` first (the exit code says so).
    pub fn shut_down(&self) -> bool {
        self.shut_down
    }

    /// Answers one message.
    pub fn handle(&mut self, message: Message) -> Vec<Message> {
        match message {
            Message::Request(req) => vec![Message::Response(self.request(req))],
            Message::Notification(n) => {
                let method = n.method.clone();
                match catch_unwind(AssertUnwindSafe(|| self.notification(n))) {
                    Ok(out) => out,
                    Err(_) => vec![log(
                        1,
                        &format!("sigil: the server failed on `{method}`; it goes on"),
                    )],
                }
            }
            Message::Response(_) => Vec::new(),
        }
    }

    fn request(&mut self, req: Request) -> Response {
        let Request { id, method, params } = req;
        if self.shut_down && method != "shutdown" {
            return Response::new_err(
                id,
                ErrorCode::InvalidRequest as i32,
                "the server is shutting down".into(),
            );
        }
        let answer = catch_unwind(AssertUnwindSafe(|| self.dispatch(&method, params)));
        respond(id, &method, answer)
    }

    fn dispatch(&mut self, method: &str, p: Value) -> Result<Value, Failure> {
        match method {
            "initialize" => self.initialize(&params(p)?),
            "shutdown" => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            "textDocument/completion" => self.completion(&params(p)?),
            "textDocument/hover" => self.hover(&params(p)?),
            "textDocument/definition" => self.definition(&params(p)?),
            "textDocument/documentSymbol" => self.symbols(&params(p)?),
            "textDocument/codeAction" => self.code_actions(&params(p)?),
            _ => Err((
                ErrorCode::MethodNotFound as i32,
                format!("`{method}` is not supported"),
            )),
        }
    }

    fn notification(&mut self, n: Notification) -> Vec<Message> {
        match n.method.as_str() {
            "textDocument/didOpen" => match params::<DidOpenTextDocumentParams>(n.params) {
                Ok(p) => {
                    let d = p.text_document;
                    let language = Language::of(d.uri.as_str(), &d.language_id);
                    self.open(&d.uri, d.text, d.version, language)
                }
                Err(e) => vec![log(1, &format!("sigil: didOpen: {}", e.1))],
            },
            "textDocument/didChange" => match params::<DidChangeTextDocumentParams>(n.params) {
                Ok(p) => self.change(p),
                Err(e) => vec![log(1, &format!("sigil: didChange: {}", e.1))],
            },
            "textDocument/didClose" => match params::<DidCloseTextDocumentParams>(n.params) {
                Ok(p) => {
                    self.docs.remove(p.text_document.uri.as_str());
                    vec![publish(&p.text_document.uri, Vec::new(), None)]
                }
                Err(e) => vec![log(1, &format!("sigil: didClose: {}", e.1))],
            },
            "workspace/didChangeWatchedFiles" | "workspace/didChangeWorkspaceFolders" => {
                self.workspace = None;
                Vec::new()
            }
            "exit" => {
                self.exited = true;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn initialize(&mut self, p: &InitializeParams) -> Result<Value, Failure> {
        let offered = p
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref());
        self.encoding = if offered.is_some_and(|list| list.contains(&PositionEncodingKind::UTF8)) {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        };
        if let Some(folders) = &p.workspace_folders {
            self.roots = folders.iter().filter_map(|f| uri_to_path(&f.uri)).collect();
        }
        #[allow(deprecated)] // Older clients send only `rootUri`.
        let root = p.root_uri.as_ref().and_then(uri_to_path);
        if self.roots.is_empty()
            && let Some(root) = root
        {
            self.roots.push(root);
        }
        let option = |name: &str| {
            p.initialization_options
                .as_ref()
                .and_then(|o| o.get(name))
                .and_then(Value::as_str)
        };
        if let Some(target) = option("target") {
            self.target = target.to_string();
        }
        // The checks, as `sigil check` chooses them: `"lints": "all"` (`--all-lints`) or
        // `"config": FILE` (`--config`, pySigma's validation configuration).
        if option("lints") == Some("all") {
            self.selection = sigil_sigma::lint::Selection::all();
        }
        if let Some(path) = option("config") {
            let read = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| sigil_sigma::lint::Selection::from_pysigma_config(&t));
            match read {
                Ok(selection) => self.selection = selection,
                Err(e) => {
                    return Err((
                        ErrorCode::InvalidParams as i32,
                        format!("{path}: cannot read the lint configuration: {e}"),
                    ));
                }
            }
        }
        let capabilities = ServerCapabilities {
            position_encoding: Some(match self.encoding {
                Encoding::Utf8 => PositionEncodingKind::UTF8,
                Encoding::Utf16 => PositionEncodingKind::UTF16,
            }),
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::FULL),
                    ..TextDocumentSyncOptions::default()
                },
            )),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec!["|".into(), ":".into(), " ".into(), ".".into()]),
                ..CompletionOptions::default()
            }),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            definition_provider: Some(OneOf::Left(true)),
            document_symbol_provider: Some(OneOf::Left(true)),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                ..CodeActionOptions::default()
            })),
            ..ServerCapabilities::default()
        };
        to_value(InitializeResult {
            capabilities,
            server_info: Some(ServerInfo {
                name: "sigil".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        })
    }

    fn open(&mut self, uri: &Uri, text: String, version: i32, language: Language) -> Vec<Message> {
        let doc = Document::checked(text, version, language, &self.selection);
        if let (Some(ws), Some(path)) = (self.workspace.as_mut(), uri_to_path(uri)) {
            ws.update(&path, &doc.text);
        }
        self.docs.insert(uri.as_str().to_string(), doc);
        vec![self.diagnostics(uri)]
    }

    fn change(&mut self, p: DidChangeTextDocumentParams) -> Vec<Message> {
        let uri = p.text_document.uri;
        let Some(doc) = self.docs.get(uri.as_str()) else {
            return vec![log(
                2,
                &format!("sigil: a change to {} which is not open", uri.as_str()),
            )];
        };
        let language = doc.language;
        let mut text = doc.text.clone();
        for change in p.content_changes {
            match change.range {
                // The server asks for whole documents; a client that sends ranges anyway
                // is followed.
                Some(range) => {
                    let index = crate::text::LineIndex::new(&text);
                    let start = index.offset(&text, range.start, self.encoding);
                    let end = index.offset(&text, range.end, self.encoding).max(start);
                    text.replace_range(start..end, &change.text);
                }
                None => text = change.text,
            }
        }
        self.open(&uri, text, p.text_document.version, language)
    }

    /// The diagnostics of an open document, as a notification.
    fn diagnostics(&mut self, uri: &Uri) -> Message {
        let extra = self.unresolved_references(uri);
        let Some(doc) = self.docs.get(uri.as_str()) else {
            return publish(uri, Vec::new(), None);
        };
        let list = doc
            .diagnostics
            .iter()
            .chain(&extra)
            .map(|d| self.to_lsp(doc, d))
            .collect();
        publish(uri, list, Some(doc.version))
    }

    fn to_lsp(&self, doc: &Document, d: &sigil_core::Diagnostic) -> lsp_types::Diagnostic {
        let r = doc.finding_range(d);
        lsp_types::Diagnostic {
            range: doc.index.range(&doc.text, r.start, r.end, self.encoding),
            severity: Some(match d.severity {
                Severity::Error => lsp_types::DiagnosticSeverity::ERROR,
                Severity::Warning => lsp_types::DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(d.code.to_string())),
            source: Some("sigil".into()),
            message: d.message.clone(),
            ..lsp_types::Diagnostic::default()
        }
    }

    /// References of a correlation or filter to rules found neither in the document nor
    /// in the workspace (the workspace is only asked when the client named one).
    fn unresolved_references(&mut self, uri: &Uri) -> Vec<sigil_core::Diagnostic> {
        let Some(doc) = self.docs.get(uri.as_str()) else {
            return Vec::new();
        };
        let own = sigil_sigma::RuleIndex::new(&doc.rules);
        let mut missing = Vec::new();
        for rule in &doc.rules {
            for r in sigil_sigma::references(rule) {
                if own.resolve(&r.reference).is_none() {
                    missing.push((r.reference.clone(), r.span, rule.span));
                }
            }
        }
        if missing.is_empty() || self.roots.is_empty() {
            return Vec::new();
        }
        let ws = self.workspace();
        missing
            .into_iter()
            .filter(|(reference, _, _)| ws.find(reference).is_empty())
            .map(|(reference, span, rule)| {
                let span = if span.is_known() { span } else { rule };
                sigil_core::Diagnostic {
                    severity: sigil_sigma::lint::UnknownRuleReference::INFO.severity,
                    code: sigil_sigma::lint::UnknownRuleReference::INFO.code,
                    message: format!(
                        "`{reference}` names no rule (by id or name) in the workspace"
                    ),
                    span,
                }
            })
            .collect()
    }

    fn workspace(&mut self) -> &Workspace {
        if self.workspace.is_none() {
            let mut ws = Workspace::scan(&self.roots);
            for (uri, doc) in &self.docs {
                if let Some(path) = uri.parse::<Uri>().ok().as_ref().and_then(uri_to_path) {
                    ws.update(&path, &doc.text);
                }
            }
            self.workspace = Some(ws);
        }
        self.workspace.get_or_insert_with(Workspace::default)
    }

    fn doc_at(&self, uri: &Uri, position: lsp_types::Position) -> Option<(&Document, usize)> {
        let doc = self.docs.get(uri.as_str())?;
        let offset = doc.index.offset(&doc.text, position, self.encoding);
        Some((doc, offset))
    }

    fn completion(&self, p: &CompletionParams) -> Result<Value, Failure> {
        let at = &p.text_document_position;
        let Some((doc, offset)) = self.doc_at(&at.text_document.uri, at.position) else {
            return Ok(Value::Null);
        };
        if doc.language != Language::Sigma {
            return Ok(Value::Null);
        }
        to_value(CompletionResponse::Array(complete::complete(
            doc,
            offset,
            self.encoding,
        )))
    }

    fn hover(&self, p: &HoverParams) -> Result<Value, Failure> {
        let at = &p.text_document_position_params;
        let Some((doc, offset)) = self.doc_at(&at.text_document.uri, at.position) else {
            return Ok(Value::Null);
        };
        if doc.language != Language::Sigma {
            return Ok(Value::Null);
        }
        let Some((text, range)) = hover::hover(doc, offset, &self.target) else {
            return Ok(Value::Null);
        };
        to_value(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: text,
            }),
            range: Some(
                doc.index
                    .range(&doc.text, range.start, range.end, self.encoding),
            ),
        })
    }

    fn definition(&mut self, p: &GotoDefinitionParams) -> Result<Value, Failure> {
        let at = &p.text_document_position_params;
        let uri = &at.text_document.uri;
        let Some((doc, offset)) = self.doc_at(uri, at.position) else {
            return Ok(Value::Null);
        };
        let locations: Vec<Location> = match navigate::target_at(doc, offset) {
            None => return Ok(Value::Null),
            Some(Target::Searches(ranges)) => ranges
                .into_iter()
                .map(|r| Location {
                    uri: uri.clone(),
                    range: doc.index.range(&doc.text, r.start, r.end, self.encoding),
                })
                .collect(),
            Some(Target::Rule(key)) => {
                let encoding = self.encoding;
                let declared = self.workspace().find(&key).to_vec();
                declared
                    .into_iter()
                    .filter_map(|d| {
                        let uri = path_to_uri(&d.path)?;
                        // Columns are bytes; an open document gives the client's units.
                        let range = match self.docs.get(uri.as_str()) {
                            Some(open) => {
                                let start = open.index.line_start(&open.text, d.line);
                                open.index.range(
                                    &open.text,
                                    start + d.columns.start,
                                    start + d.columns.end,
                                    encoding,
                                )
                            }
                            None => lsp_types::Range::new(
                                lsp_types::Position::new(d.line as u32, d.columns.start as u32),
                                lsp_types::Position::new(d.line as u32, d.columns.end as u32),
                            ),
                        };
                        Some(Location { uri, range })
                    })
                    .collect()
            }
        };
        if locations.is_empty() {
            return Ok(Value::Null);
        }
        to_value(GotoDefinitionResponse::Array(locations))
    }

    fn symbols(&self, p: &DocumentSymbolParams) -> Result<Value, Failure> {
        let Some(doc) = self.docs.get(p.text_document.uri.as_str()) else {
            return Ok(Value::Null);
        };
        if doc.language != Language::Sigma {
            return Ok(Value::Null);
        }
        to_value(DocumentSymbolResponse::Nested(navigate::symbols(
            doc,
            self.encoding,
        )))
    }

    fn code_actions(&self, p: &CodeActionParams) -> Result<Value, Failure> {
        let uri = &p.text_document.uri;
        let Some(doc) = self.docs.get(uri.as_str()) else {
            return Ok(Value::Null);
        };
        let start = doc.index.offset(&doc.text, p.range.start, self.encoding);
        let end = doc.index.offset(&doc.text, p.range.end, self.encoding);
        let mut actions = Vec::new();
        for d in &doc.diagnostics {
            let r = doc.finding_range(d);
            // The findings the requested range touches.
            if r.end < start || r.start > end {
                continue;
            }
            let fixes = sigil_sigma::lint::fixes_for(&doc.text, d);
            let only = fixes.len() == 1;
            for fix in fixes {
                let edits: Vec<TextEdit> = fix
                    .edits
                    .iter()
                    .map(|e| TextEdit {
                        range: doc.index.range(
                            &doc.text,
                            e.range.start,
                            e.range.end,
                            self.encoding,
                        ),
                        new_text: e.text.clone(),
                    })
                    .collect();
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: fix.title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![self.to_lsp(doc, d)]),
                    edit: Some(WorkspaceEdit {
                        changes: Some(HashMap::from([(uri.clone(), edits)])),
                        ..WorkspaceEdit::default()
                    }),
                    is_preferred: Some(only),
                    ..CodeAction::default()
                }));
            }
        }
        to_value(actions)
    }
}

/// The response to a request from what its handler gave (or a panic).
fn respond(
    id: RequestId,
    method: &str,
    answer: std::thread::Result<Result<Value, Failure>>,
) -> Response {
    match answer {
        Ok(Ok(value)) => Response::new_ok(id, value),
        Ok(Err((code, message))) => Response::new_err(id, code, message),
        Err(_) => Response::new_err(
            id,
            ErrorCode::InternalError as i32,
            format!("sigil failed on `{method}`; the server goes on"),
        ),
    }
}

fn publish(uri: &Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) -> Message {
    Message::Notification(Notification::new(
        "textDocument/publishDiagnostics".into(),
        PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics,
            version,
        },
    ))
}

/// A `window/logMessage` (type 1: error, 2: warning, 3: info).
pub fn log(kind: u8, message: &str) -> Message {
    Message::Notification(Notification::new(
        "window/logMessage".into(),
        serde_json::json!({"type": kind, "message": message}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "title: Suspicious WMIC Use.\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\n\
        status: test\nlevel: low\nlogsource:\n  category: process_creation\n  product: windows\n\
        detection:\n  selection:\n    Image|endswith: '\\wmic.exe'\n  condition: selection\n";

    /// The codes published for `RULE` by a server initialized with `options`.
    fn codes_with(options: &Value) -> Vec<String> {
        let mut server = Server::new();
        let init = Request::new(
            RequestId::from(1),
            "initialize".into(),
            serde_json::json!({"capabilities": {}, "initializationOptions": options}),
        );
        let reply = server.handle(Message::Request(init));
        assert!(matches!(&reply[0], Message::Response(r) if r.response_result.is_ok()));
        let open = Notification::new(
            "textDocument/didOpen".into(),
            serde_json::json!({"textDocument": {
                "uri": "file:///r.yml", "languageId": "yaml", "version": 1, "text": RULE}}),
        );
        let out = server.handle(Message::Notification(open));
        let Message::Notification(n) = &out[0] else {
            panic!("{out:?}");
        };
        n.params["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| d["code"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn the_checks_are_chosen_as_sigil_check_chooses_them() {
        let optional = "title-ends-with-dot";
        assert!(!codes_with(&serde_json::json!({})).contains(&optional.to_string()));
        assert!(codes_with(&serde_json::json!({"lints": "all"})).contains(&optional.to_string()));
        let config =
            std::env::temp_dir().join(format!("sigil-lsp-conf-{}.yml", std::process::id()));
        std::fs::write(&config, "validators:\n  - all\n  - -sigmahq_title_end\n").unwrap();
        let codes = codes_with(&serde_json::json!({"config": config}));
        std::fs::remove_file(&config).unwrap();
        assert!(!codes.contains(&optional.to_string()), "{codes:?}");
    }

    #[test]
    fn a_bad_configuration_is_an_initialize_error() {
        let mut server = Server::new();
        let init = Request::new(
            RequestId::from(1),
            "initialize".into(),
            serde_json::json!({"capabilities": {}, "initializationOptions": {"config": "/no/such.yml"}}),
        );
        let reply = server.handle(Message::Request(init));
        assert!(matches!(&reply[0], Message::Response(r) if r.response_result.is_err()));
    }
}
