//! The operations every element type has (the generic element operations of the
//! interface documents), and the circle's own.

use axum::http::Method;

use super::{CircleCx, ElementCx, Errors, NoInput, Op, op};
use crate::auth::Role;
use crate::element::activity::{self, ActivityQuery, StatsQuery};
use crate::element::bundle::{self, ImportBundle};
use crate::element::lifecycle::{
    self, CreateElement, Disable, ReadmeUpdate, Restore, UpdateElement, UpdateMeta, VersionQuery,
};
use crate::element::{ElementType, ElementView};

/// Why the platform-only operations answer 501.
const NO_GRAPH: &str = "voxgate elements are not part of a flow graph (no modifiers, \
     attachments, containment or inherited intentions)";
const NO_GIT: &str = "voxgate keeps elements in its database, not in git: use version, \
     restore and export_bundle";
const NO_ENVIRONMENTS: &str = "voxgate has no dev/demo/live environments";
const NO_RECEIVE: &str = "external traffic reaches voxgate on the carrier webhooks and the \
     SMTP listener, not through an element operation";

/// The generic operations of every element.
pub(super) fn element_ops() -> Vec<Op<ElementCx>> {
    let mut ops = vec![
        op("get", Method::GET, Role::Read, "the element and its spec")
            .errors(Errors::Input)
            .run(|cx: ElementCx, _: NoInput| async move {
                Ok(ElementView::new(cx.element, Vec::new()))
            }),
        op(
            "update",
            Method::PATCH,
            Role::Write,
            "deep-merge (or replace) the spec, name, intention; records a version",
        )
        .run(|cx: ElementCx, body: UpdateElement| async move {
            lifecycle::update(&cx.state, &cx.element, &body).await
        }),
        op(
            "update_meta",
            Method::PATCH,
            Role::Write,
            "shallow-merge user-interface metadata; no version",
        )
        .run(|cx: ElementCx, body: UpdateMeta| async move {
            lifecycle::update_meta(&cx.state, &cx.element, body).await
        }),
        op(
            "version",
            Method::GET,
            Role::Read,
            "the current version; history=true for the newest limit (50) versions",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, query: VersionQuery| async move {
            lifecycle::version(&cx.state, &cx.element, &query).await
        }),
        op(
            "restore",
            Method::POST,
            Role::Admin,
            "bring back an earlier version (the current one is snapshotted first)",
        )
        .run(|cx: ElementCx, body: Restore| async move {
            lifecycle::restore(&cx.state, &cx.element, &body).await
        }),
        op(
            "delete",
            Method::DELETE,
            Role::Admin,
            "soft delete; refused while calls are live or a number is rented",
        )
        .run(|cx: ElementCx, _: NoInput| async move {
            lifecycle::delete(&cx.state, &cx.caller, &cx.element).await
        }),
        op("enable", Method::POST, Role::Admin, "enable (idempotent)").run(
            |cx: ElementCx, _: NoInput| async move {
                lifecycle::set_enabled(&cx.state, &cx.element, true, None).await
            },
        ),
        op(
            "disable",
            Method::POST,
            Role::Admin,
            "disable, with an optional reason (idempotent)",
        )
        .run(|cx: ElementCx, body: Disable| async move {
            lifecycle::set_enabled(&cx.state, &cx.element, false, body.reason.as_deref()).await
        }),
        op(
            "schema",
            Method::GET,
            Role::Read,
            "ports, the spec's schema and every operation with its input and output schema",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, _: NoInput| async move {
            super::schema::of(ElementType::parse(&cx.element.element_type)?)
        }),
        op(
            "stats",
            Method::GET,
            Role::Read,
            "runs per day, success rate, mean duration and health over a period",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, query: StatsQuery| async move {
            activity::stats(&cx.state, &cx.element, &query).await
        }),
        op(
            "activity",
            Method::GET,
            Role::Read,
            "the operations run on the element, newest first",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, query: ActivityQuery| async move {
            activity::list(&cx.state, &cx.element, &query).await
        }),
        op(
            "readme",
            Method::GET,
            Role::Read,
            "the element's README (markdown)",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, _: NoInput| async move {
            lifecycle::readme(&cx.state, &cx.element).await
        }),
        op(
            "readme_update",
            Method::POST,
            Role::Write,
            "replace the README (markdown, at most 1 MiB)",
        )
        .run(|cx: ElementCx, body: ReadmeUpdate| async move {
            lifecycle::readme_update(&cx.state, &cx.element, body).await
        }),
        op(
            "export_bundle",
            Method::GET,
            Role::Read,
            "the element as a JSON bundle (base64); secrets masked",
        )
        .path("export/bundle")
        .alias("export_bundle")
        .errors(Errors::Input)
        .run(|cx: ElementCx, _: NoInput| async move {
            bundle::export(&cx.state, std::slice::from_ref(&cx.element)).await
        }),
        op(
            "import_bundle",
            Method::POST,
            Role::Write,
            "import elements of a bundle into the circle (overwrite=true replaces same slugs)",
        )
        .path("import/bundle")
        .alias("import_bundle")
        .run(|cx: ElementCx, body: ImportBundle| async move {
            bundle::import(&cx.state, &cx.caller, &body).await
        }),
    ];
    ops.extend(platform_only());
    ops
}

/// The documented operations only the platform the documents come from offers.
fn platform_only() -> Vec<Op<ElementCx>> {
    let list: [(&'static str, &'static str, Method, Role, &'static str); 15] = [
        (
            "attachments",
            "attachments",
            Method::GET,
            Role::Read,
            NO_GRAPH,
        ),
        (
            "batch_stats",
            "batch_stats",
            Method::GET,
            Role::Read,
            NO_GRAPH,
        ),
        ("compose", "compose", Method::POST, Role::Execute, NO_GRAPH),
        ("context", "context", Method::GET, Role::Read, NO_GRAPH),
        ("intention", "intention", Method::GET, Role::Read, NO_GRAPH),
        (
            "promote",
            "promote",
            Method::POST,
            Role::Admin,
            NO_ENVIRONMENTS,
        ),
        ("receive", "receive", Method::POST, Role::Read, NO_RECEIVE),
        (
            "remove-modifier",
            "remove-modifier",
            Method::POST,
            Role::Execute,
            NO_GRAPH,
        ),
        ("source", "source", Method::GET, Role::Read, NO_GIT),
        (
            "source_branches",
            "source/branches",
            Method::GET,
            Role::Read,
            NO_GIT,
        ),
        (
            "source_promote",
            "source/promote",
            Method::POST,
            Role::Write,
            NO_GIT,
        ),
        (
            "source_repair",
            "source/repair",
            Method::POST,
            Role::Write,
            NO_GIT,
        ),
        (
            "source_status",
            "source/status",
            Method::GET,
            Role::Read,
            NO_GIT,
        ),
        (
            "source_validate",
            "source/validate",
            Method::POST,
            Role::Read,
            NO_GIT,
        ),
        ("tree", "tree", Method::GET, Role::Read, NO_GRAPH),
    ];
    list.into_iter()
        .map(|(name, path, method, role, why)| {
            op(name, method, role, "not offered by voxgate (501)")
                .path(path)
                .alias(name)
                .errors(Errors::Input)
                .not_supported(why)
        })
        .collect()
}

/// The circle's operations.
pub(super) fn circle_ops() -> Vec<Op<CircleCx>> {
    vec![
        op(
            "create",
            Method::POST,
            Role::Write,
            "create an element: element_type, slug, spec (name, intention optional)",
        )
        .created()
        .run(|cx: CircleCx, body: CreateElement| async move {
            lifecycle::create(&cx.state, &cx.caller, body).await
        }),
        op(
            "export_bundle",
            Method::GET,
            Role::Read,
            "every live element of the circle as one JSON bundle (base64); secrets masked",
        )
        .path("export/bundle")
        .alias("export_bundle")
        .errors(Errors::Input)
        .run(|cx: CircleCx, _: NoInput| async move {
            let elements = cx.state.store().live_elements(&cx.caller.circle.id).await?;
            bundle::export(&cx.state, &elements).await
        }),
        op(
            "import_bundle",
            Method::POST,
            Role::Write,
            "import a bundle's elements (overwrite=true replaces same slugs)",
        )
        .path("import/bundle")
        .alias("import_bundle")
        .run(|cx: CircleCx, body: ImportBundle| async move {
            bundle::import(&cx.state, &cx.caller, &body).await
        }),
    ]
}
