//! Element operations as typed tables: one [`Op`] per documented operation, the single
//! source for routing, the role check, the input and output schemas (`ops/schema`), the
//! OpenAPI document and the operation list in `docs/control-api.md`.
//!
//! # Design
//!
//! An element type's table ([`element_ops`]) lists its operations with the name, path,
//! HTTP method and least role the interface documents give, and a handler typed by its
//! input and output: `Fn(ElementCx, Input) -> Future<Result<Output, ApiError>>`. The
//! builder erases the types once, keeping their JSON schemas, so that
//!
//! - the router has one route, `/api/{circle}/{slug}/ops/{*operation}` (`dispatch`),
//!   which loads the element, finds the operation in its type's table, checks the method
//!   (405 with `Allow` otherwise), the role, parses the input (the query string for GET and
//!   DELETE, the JSON body otherwise; `INVALID_QUERY` / `INVALID_BODY`) and runs it;
//! - `ops/schema` and `/api/openapi.json` are generated from the same entries, so what is
//!   documented is what runs;
//! - operations the documents list but that only make sense inside the platform they come
//!   from are entries too, answering 501 `OPERATION_NOT_SUPPORTED` with the reason.
//!
//! Operations addressed to a circle rather than an element (`create`, and the circle's
//! `export_bundle` / `import_bundle`) are [`circle_ops`], routed at
//! `/api/{circle}/ops/{*operation}`.

mod common;
pub(crate) mod dispatch;
mod email;
pub(crate) mod openapi;
mod phone;
pub mod schema;
mod websocket;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};

use axum::http::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use crate::auth::{Caller, Role};
use crate::element::ElementType;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// A boxed, sendable future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What an element operation runs with: the server, the authenticated caller (its circle
/// is the element's) and the element, as stored when the request came in.
#[derive(Debug, Clone)]
pub struct ElementCx {
    /// The server's state.
    pub state: AppState,
    /// Who asks.
    pub caller: Caller,
    /// The addressed element.
    pub element: Element,
}

/// What a circle operation runs with.
#[derive(Debug, Clone)]
pub struct CircleCx {
    /// The server's state.
    pub state: AppState,
    /// Who asks (a key of the addressed circle).
    pub caller: Caller,
}

/// The input of an operation that takes none: an empty query or body (`{}`).
#[derive(Debug, Default, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

/// A type's JSON schema with the named schemas it refers to.
#[derive(Clone)]
pub struct TypeSchema {
    /// The schema itself (inline).
    pub schema: RefOr<Schema>,
    /// `#/components/schemas/{name}` targets it uses.
    pub components: Vec<(String, RefOr<Schema>)>,
}

impl std::fmt::Debug for TypeSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TypeSchema")
    }
}

impl TypeSchema {
    /// The schema of `T`.
    pub fn of<T: ToSchema>() -> Self {
        let mut components = Vec::new();
        T::schemas(&mut components);
        Self {
            schema: T::schema(),
            components,
        }
    }
}

/// The request as the dispatcher hands it to an operation.
#[derive(Debug)]
pub struct RawInput {
    /// The request method (GET and DELETE read the query, others the body).
    pub method: Method,
    /// The query string, without `?`.
    pub query: String,
    /// The body.
    pub body: axum::body::Bytes,
}

type Handler<C> = Arc<dyn Fn(C, RawInput) -> BoxFuture<Result<Value, ApiError>> + Send + Sync>;

/// How an operation is served.
pub enum Run<C> {
    /// A typed handler.
    Handler {
        /// The input's schema (boxed: the schemas are large, the 501 variant small).
        input: Box<TypeSchema>,
        /// The output's schema.
        output: Box<TypeSchema>,
        /// The erased handler: parses the input, runs, serializes the output.
        call: Handler<C>,
    },
    /// Documented, but only the platform the documents come from can offer it (501).
    NotSupported(&'static str),
}

impl<C> std::fmt::Debug for Run<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Handler { .. } => f.write_str("Handler"),
            Self::NotSupported(why) => write!(f, "NotSupported({why:?})"),
        }
    }
}

/// Which error statuses an operation may answer (all with the error envelope), beside
/// 401/403 (auth) and 404 (element or operation), which every operation has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errors {
    /// Bad input (400).
    Input,
    /// Bad input or a conflict with stored state (400, 409).
    State,
    /// Also talks to a remote server: carrier, mail or SIP peer (400, 402, 409, 422, 429,
    /// 502, 503, 504).
    Remote,
}

impl Errors {
    /// The statuses.
    pub fn statuses(self) -> &'static [u16] {
        match self {
            Self::Input => &[400],
            Self::State => &[400, 409],
            Self::Remote => &[400, 402, 409, 412, 422, 429, 502, 503, 504],
        }
    }
}

/// One operation.
#[derive(Debug)]
pub struct Op<C> {
    /// The documented name, e.g. `send-sms`, `test_connection`.
    pub name: &'static str,
    /// The documented path under `ops/`, e.g. `test-connection`, `export/bundle`.
    pub path: &'static str,
    /// Other paths accepted for it (earlier names of ours).
    pub aliases: Vec<&'static str>,
    /// The documented method.
    pub method: Method,
    /// Other methods accepted (earlier ones of ours).
    pub also: Vec<Method>,
    /// The least role.
    pub role: Role,
    /// What it does, in one line.
    pub summary: &'static str,
    /// The status of a success (200, or 201 for `create`).
    pub status: StatusCode,
    /// The error statuses it may answer.
    pub errors: Errors,
    /// How it runs.
    pub run: Run<C>,
}

impl<C> Op<C> {
    /// Whether `path` addresses this operation.
    pub fn answers(&self, path: &str) -> bool {
        self.path == path || self.aliases.contains(&path)
    }

    /// Whether `method` may call it.
    pub fn allows(&self, method: &Method) -> bool {
        self.method == *method || self.also.contains(method)
    }

    /// Whether it runs here (not a 501).
    pub fn supported(&self) -> bool {
        matches!(self.run, Run::Handler { .. })
    }
}

/// Starts an operation entry.
pub(crate) fn op<C>(
    name: &'static str,
    method: Method,
    role: Role,
    summary: &'static str,
) -> OpBuilder<C> {
    OpBuilder {
        op: Op {
            name,
            path: name,
            aliases: Vec::new(),
            method,
            also: Vec::new(),
            role,
            summary,
            status: StatusCode::OK,
            errors: Errors::State,
            run: Run::NotSupported(""),
        },
    }
}

/// Builds an [`Op`].
pub(crate) struct OpBuilder<C> {
    op: Op<C>,
}

impl<C: Send + 'static> OpBuilder<C> {
    /// The documented path, when it differs from the name.
    pub(crate) fn path(mut self, path: &'static str) -> Self {
        self.op.path = path;
        self
    }

    /// Another accepted path.
    pub(crate) fn alias(mut self, path: &'static str) -> Self {
        self.op.aliases.push(path);
        self
    }

    /// Another accepted method.
    pub(crate) fn also(mut self, method: Method) -> Self {
        self.op.also.push(method);
        self
    }

    /// Success is 201 Created.
    pub(crate) fn created(mut self) -> Self {
        self.op.status = StatusCode::CREATED;
        self
    }

    /// The error statuses.
    pub(crate) fn errors(mut self, errors: Errors) -> Self {
        self.op.errors = errors;
        self
    }

    /// The handler; its input and output types give the schemas.
    pub(crate) fn run<I, O, F, Fut>(mut self, handler: F) -> Op<C>
    where
        I: DeserializeOwned + ToSchema + Send + 'static,
        O: Serialize + ToSchema + 'static,
        F: Fn(C, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, ApiError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let call: Handler<C> = Arc::new(move |cx: C, raw: RawInput| {
            let handler = handler.clone();
            Box::pin(async move {
                let input: I = dispatch::parse_input(&raw)?;
                let output = handler(cx, input).await?;
                serde_json::to_value(output).map_err(|e| ApiError::Store(e.to_string()))
            })
        });
        self.op.run = Run::Handler {
            input: Box::new(TypeSchema::of::<I>()),
            output: Box::new(TypeSchema::of::<O>()),
            call,
        };
        self.op
    }

    /// Documented, not offered here (501), with the reason.
    pub(crate) fn not_supported(mut self, why: &'static str) -> Op<C> {
        self.op.run = Run::NotSupported(why);
        self.op
    }
}

/// The operations of element type `element_type`: the common ones and its own.
pub fn element_ops(element_type: ElementType) -> &'static [Op<ElementCx>] {
    static PHONE: LazyLock<Vec<Op<ElementCx>>> = LazyLock::new(|| with_common(phone::ops()));
    static EMAIL: LazyLock<Vec<Op<ElementCx>>> = LazyLock::new(|| with_common(email::ops()));
    static WEBSOCKET: LazyLock<Vec<Op<ElementCx>>> =
        LazyLock::new(|| with_common(websocket::ops()));
    match element_type {
        ElementType::PhoneNumber => &PHONE,
        ElementType::Email => &EMAIL,
        ElementType::Websocket => &WEBSOCKET,
    }
}

/// The common operations, then the type's own, sorted by name.
fn with_common(own: Vec<Op<ElementCx>>) -> Vec<Op<ElementCx>> {
    let mut all = common::element_ops();
    all.extend(own);
    all.sort_by_key(|op| op.name);
    all
}

/// The operations addressed to a circle: `create`, `export_bundle`, `import_bundle`.
pub fn circle_ops() -> &'static [Op<CircleCx>] {
    static CIRCLE: LazyLock<Vec<Op<CircleCx>>> = LazyLock::new(common::circle_ops);
    &CIRCLE
}

/// The least role of element operation `name` of `element_type`, if it has one.
pub fn role_of(element_type: ElementType, name: &str) -> Option<Role> {
    element_ops(element_type)
        .iter()
        .find(|op| op.name == name)
        .map(|op| op.role)
}

/// 404 `OPERATION_NOT_FOUND` for `path` on `what`.
pub(crate) fn not_found(what: &str, path: &str) -> ApiError {
    ApiError::not_found(
        ErrorCode::OperationNotFound,
        format!(
            "{what} has no operation {:?} (ops/schema lists them)",
            crate::e164::clip(path)
        ),
    )
}

/// One table row per operation: name (and path, when it differs), method, role, and
/// whether it runs here (`done`) or answers 501 (with the reason).
fn rows<C>(ops: &[Op<C>], out: &mut String) {
    use std::fmt::Write as _;
    out.push_str("| operation | method | role | state |\n|---|---|---|---|\n");
    for op in ops {
        let name = if op.path == op.name {
            format!("`{}`", op.name)
        } else {
            format!("`{}` (`ops/{}`)", op.name, op.path)
        };
        let state = match &op.run {
            Run::Handler { .. } => format!("done: {}", op.summary),
            Run::NotSupported(why) => format!("501: {why}"),
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} |",
            op.method,
            op.role,
            state.replace('|', "\\|")
        );
    }
}

/// The operation tables of `docs/control-api.md` (`## Operations`), generated from the
/// tables themselves; a test keeps the document equal to it.
pub fn markdown() -> String {
    let mut out = String::from(
        "Generated from the operation tables (`control-api/src/ops/`); a test keeps this \
         section equal to them.\n\n### circle: `/api/{circle}/ops/...`\n",
    );
    rows(circle_ops(), &mut out);
    for t in ElementType::ALL {
        out.push_str(&format!(
            "\n### {}: `/api/{{circle}}/{{slug}}/ops/...`\n",
            t.as_str()
        ));
        rows(element_ops(t), &mut out);
    }
    out
}

#[cfg(test)]
mod docs_tests {
    #[test]
    fn the_docs_list_every_operation_with_its_state() {
        let doc = include_str!("../../../docs/control-api.md");
        let section = doc
            .split("\n## Operations\n\n")
            .nth(1)
            .expect("docs/control-api.md has an `## Operations` section");
        let section = section.split("\n## ").next().unwrap_or(section);
        let expected = super::markdown();
        assert!(
            section.trim_end() == expected.trim_end(),
            "docs/control-api.md's `## Operations` section must be:\n\n{expected}"
        );
    }
}
