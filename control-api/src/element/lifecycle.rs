//! The generic element operations every type has: `create`, `get`, `update`,
//! `update_meta`, `version`, `restore`, `enable`, `disable`, `delete`, `readme`,
//! `readme_update`. Activity and stats are in [`super::activity`], bundles in
//! [`super::bundle`].
//!
//! Every spec change is a new version (optimistic: an update that loses a race with
//! another is merged again, up to [`UPDATE_ATTEMPTS`] times). A spec is validated by its
//! type, and [`ElementType::prepare`] refuses changes to what only operations set and seals
//! secrets, before anything is stored.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::merge::merge;
use super::{ElementType, ElementView, check_name};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{new_id, rfc3339};
use crate::state::AppState;
use crate::store::{Element, ElementChange};
use crate::validate::plain_text;

/// Attempts of an update that loses a version race to a concurrent one.
pub const UPDATE_ATTEMPTS: usize = 3;
/// Longest name.
const NAME_MAX: usize = 100;
/// Longest intention.
const INTENTION_MAX: usize = 2000;
/// Largest README, in bytes.
pub const README_MAX_BYTES: usize = 1024 * 1024;
/// Largest `meta` object, serialized.
const META_MAX_BYTES: usize = 64 * 1024;
/// Default and largest `limit` of `version?history=true`.
const HISTORY_DEFAULT: u32 = 50;
const HISTORY_MAX: u32 = 500;

/// `create` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateElement {
    /// `phone-number`, `email` or `websocket`.
    pub element_type: String,
    /// Unique per circle: 1-63 of a-z, 0-9, `-`.
    pub slug: String,
    /// The type's spec; defaults are filled in.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub spec: Option<Value>,
    /// Display name, 1-100 characters; default: the slug.
    #[serde(default)]
    pub name: Option<String>,
    /// What the element is for, at most 2000 characters.
    #[serde(default)]
    pub intention: Option<String>,
}

/// `update` body: `spec`, `name` and `intention` are each optional.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateElement {
    /// The change, a JSON object: deep-merged into the spec (RFC 7396: lists replace,
    /// `null` removes a field), or the whole new spec with `deep: false`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub spec: Option<Value>,
    /// A new display name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new intention (`""` clears it).
    #[serde(default)]
    pub intention: Option<String>,
    /// Merge (default) or replace.
    #[serde(default = "yes")]
    pub deep: bool,
}

fn yes() -> bool {
    true
}

/// `update_meta` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeta {
    /// Top-level keys replace the stored ones; other keys stay.
    #[schema(value_type = Object)]
    pub meta: Map<String, Value>,
}

/// `version` query.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// Include the history, newest first.
    #[serde(default)]
    pub history: bool,
    /// Versions of history, 1-500; default 50.
    pub limit: Option<u32>,
}

/// `version` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionView {
    /// The current version.
    pub version: i64,
    /// When it was written, RFC 3339.
    pub updated_at: String,
    /// With `history=true`: the newest `limit` versions, newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<VersionEntry>>,
}

/// One version of the history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionEntry {
    /// From 1.
    pub version: i64,
    /// The spec as it was (secrets masked).
    #[schema(value_type = Object)]
    pub spec: Value,
    /// RFC 3339.
    pub created_at: String,
    /// Why it was written, when not by a plain update.
    pub note: Option<String>,
}

/// `restore` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Restore {
    /// The version to bring back.
    pub version: i64,
}

/// `disable` body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Disable {
    /// Why, at most 500 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `delete` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// Always true.
    pub deleted: bool,
    /// The slug, free again.
    pub slug: String,
}

/// `readme` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readme {
    /// Markdown; empty when there is none.
    pub content: String,
    /// Always `markdown`.
    pub format: &'static str,
}

/// `readme_update` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadmeUpdate {
    /// Markdown, at most 1 MiB.
    pub content: String,
}

/// A checked name: 1-100 characters, no control characters.
fn name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid(
            ErrorCode::InvalidBody,
            "name must not be empty",
        ));
    }
    plain_text(ErrorCode::InvalidBody, "name", name, NAME_MAX)
}

fn intention(text: &str) -> Result<(), ApiError> {
    if text.chars().count() > INTENTION_MAX {
        return Err(ApiError::invalid(
            ErrorCode::InvalidBody,
            format!("intention must be at most {INTENTION_MAX} characters"),
        ));
    }
    Ok(())
}

/// The live element `slug` of the caller's circle.
pub async fn load(state: &AppState, caller: &Caller, slug: &str) -> Result<Element, ApiError> {
    state
        .store()
        .element(&caller.circle.id, slug)
        .await?
        .ok_or_else(|| not_found(slug))
}

fn not_found(slug: &str) -> ApiError {
    ApiError::not_found(
        ErrorCode::ElementNotFound,
        format!("no element {:?} in this circle", crate::e164::clip(slug)),
    )
}

/// `create`.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    body: CreateElement,
) -> Result<ElementView, ApiError> {
    let element_type = ElementType::parse(&body.element_type)?;
    check_name("slug", ErrorCode::ElementInvalidSlug, &body.slug)?;
    if let Some(n) = &body.name {
        name(n)?;
    }
    if let Some(i) = &body.intention {
        intention(i)?;
    }
    let spec = body.spec.unwrap_or_else(|| json!({}));
    let mut validated = element_type.validate(&spec)?;
    let id = new_id("elm");
    element_type.prepare(&mut validated.spec, None, &id, state.sealer().ok())?;
    let mut element = Element::new(
        id,
        caller.circle.id.clone(),
        element_type.as_str(),
        body.slug,
        validated.spec,
        state.now_ms(),
    );
    if let Some(n) = body.name {
        element.name = n;
    }
    element.intention = body.intention.filter(|i| !i.is_empty());
    state.store().insert_element(&element).await?;
    tracing::info!(circle = %caller.circle.name, slug = %element.slug, key = %caller.key_id,
        "element created");
    Ok(ElementView::new(element, validated.warnings))
}

/// `update`: deep merge (or replace) the spec, and the name and intention; every update
/// is a version, an empty one too.
pub async fn update(
    state: &AppState,
    element: &Element,
    body: &UpdateElement,
) -> Result<ElementView, ApiError> {
    if let Some(n) = &body.name {
        name(n)?;
    }
    if let Some(i) = &body.intention {
        intention(i)?;
    }
    if body.spec.as_ref().is_some_and(|s| !s.is_object()) {
        return Err(ApiError::invalid(
            ErrorCode::InvalidBody,
            "spec must be a JSON object",
        ));
    }
    let mut current = element.clone();
    for attempt in 1..=UPDATE_ATTEMPTS {
        let element_type = ElementType::parse(&current.element_type)?;
        let spec = match (&body.spec, body.deep) {
            (None, _) => current.spec.clone(),
            (Some(change), true) => {
                let mut spec = element_type.unfill(&current.spec);
                let mut change = change.clone();
                element_type.documented_names(&mut change);
                merge(&mut spec, &change);
                spec
            }
            (Some(whole), false) => whole.clone(),
        };
        let mut validated = element_type.validate(&spec)?;
        element_type.prepare(
            &mut validated.spec,
            Some(&current.spec),
            &current.id,
            state.sealer().ok(),
        )?;
        let change = ElementChange {
            spec: &validated.spec,
            name: body.name.as_deref(),
            intention: body
                .intention
                .as_deref()
                .map(|i| Some(i).filter(|i| !i.is_empty())),
            note: None,
        };
        match state
            .store()
            .update_element(&current.id, current.version, change, state.now_ms())
            .await
        {
            Ok(saved) => return Ok(ElementView::new(saved, validated.warnings)),
            Err(e) if e.error_code() == ErrorCode::ElementVersionConflict => {
                if attempt == UPDATE_ATTEMPTS {
                    return Err(e.into());
                }
                current = reload(state, &current).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        ErrorCode::ElementVersionConflict,
        "the element keeps changing; read it and try again",
    ))
}

async fn reload(state: &AppState, element: &Element) -> Result<Element, ApiError> {
    state
        .store()
        .element_by_id(&element.id)
        .await?
        .ok_or_else(|| not_found(&element.slug))
}

/// `update_meta`: a shallow merge into `meta`; no version.
pub async fn update_meta(
    state: &AppState,
    element: &Element,
    body: UpdateMeta,
) -> Result<ElementView, ApiError> {
    let mut meta = match &element.meta {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    meta.extend(body.meta);
    let meta = Value::Object(meta);
    if meta.to_string().len() > META_MAX_BYTES {
        return Err(ApiError::invalid(
            ErrorCode::InvalidBody,
            format!("meta must be at most {META_MAX_BYTES} bytes of JSON"),
        ));
    }
    state
        .store()
        .set_element_meta(&element.id, &meta, state.now_ms())
        .await?;
    Ok(ElementView::new(reload(state, element).await?, Vec::new()))
}

/// `version`: the current version, with `history=true` the newest `limit`.
pub async fn version(
    state: &AppState,
    element: &Element,
    query: &VersionQuery,
) -> Result<VersionView, ApiError> {
    let limit = query.limit.unwrap_or(HISTORY_DEFAULT);
    if !(1..=HISTORY_MAX).contains(&limit) {
        return Err(ApiError::invalid(
            ErrorCode::InvalidQuery,
            format!("limit must be 1 to {HISTORY_MAX}, not {limit}"),
        ));
    }
    let history = if query.history {
        let element_type = ElementType::parse(&element.element_type)?;
        let versions = state.store().element_versions(&element.id).await?;
        let entries = versions
            .into_iter()
            .rev()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|mut v| {
                element_type.redact(&mut v.spec);
                VersionEntry {
                    version: v.version,
                    spec: v.spec,
                    created_at: rfc3339(v.created_at),
                    note: v.note,
                }
            })
            .collect();
        Some(entries)
    } else {
        None
    };
    Ok(VersionView {
        version: element.version,
        updated_at: rfc3339(element.updated_at),
        history,
    })
}

/// `restore`: snapshots the current spec (`Before restore to vN`), then writes version N's
/// spec as the newest version. What only operations set (a leased or rented number) stays
/// as it is now.
pub async fn restore(
    state: &AppState,
    element: &Element,
    body: &Restore,
) -> Result<ElementView, ApiError> {
    let element_type = ElementType::parse(&element.element_type)?;
    let versions = state.store().element_versions(&element.id).await?;
    let old = versions
        .iter()
        .find(|v| v.version == body.version)
        .ok_or_else(|| {
            ApiError::not_found(
                ErrorCode::ElementVersionNotFound,
                format!(
                    "the element has versions 1 to {}, not {}",
                    element.version, body.version
                ),
            )
        })?;
    let mut spec = old.spec.clone();
    element_type.carry_managed(&mut spec, &element.spec);
    let mut validated = element_type.validate(&spec)?;
    let same = validated.spec.clone();
    element_type.prepare(&mut validated.spec, Some(&same), &element.id, None)?;
    let store = state.store();
    let before = format!("Before restore to v{}", body.version);
    let snapshot = ElementChange {
        spec: &element.spec,
        name: None,
        intention: None,
        note: Some(&before),
    };
    let snapped = store
        .update_element(&element.id, element.version, snapshot, state.now_ms())
        .await?;
    let restored = format!("Restored from v{}", body.version);
    let change = ElementChange {
        spec: &validated.spec,
        name: None,
        intention: None,
        note: Some(&restored),
    };
    let saved = store
        .update_element(&element.id, snapped.version, change, state.now_ms())
        .await?;
    Ok(ElementView::new(saved, validated.warnings))
}

/// `enable` / `disable` (idempotent).
pub async fn set_enabled(
    state: &AppState,
    element: &Element,
    enabled: bool,
    reason: Option<&str>,
) -> Result<ElementView, ApiError> {
    if let Some(reason) = reason {
        plain_text(ErrorCode::InvalidBody, "reason", reason, 500)?;
    }
    state
        .store()
        .set_element_state(&element.id, enabled, reason, state.now_ms())
        .await?;
    Ok(ElementView::new(reload(state, element).await?, Vec::new()))
}

/// `delete`: soft; refused while the type says it must not go (calls on a number, a
/// rented number).
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    element: &Element,
) -> Result<Deleted, ApiError> {
    if element.element_type == ElementType::PhoneNumber.as_str() {
        crate::phone::numbers::before_delete(state, element).await?;
    }
    state
        .store()
        .delete_element(&element.id, state.now_ms())
        .await?;
    tracing::info!(circle = %caller.circle.name, slug = %element.slug, key = %caller.key_id,
        "element deleted");
    Ok(Deleted {
        deleted: true,
        slug: element.slug.clone(),
    })
}

/// `readme`.
pub async fn readme(state: &AppState, element: &Element) -> Result<Readme, ApiError> {
    Ok(Readme {
        content: state.store().element_readme(&element.id).await?,
        format: "markdown",
    })
}

/// `readme_update`.
pub async fn readme_update(
    state: &AppState,
    element: &Element,
    body: ReadmeUpdate,
) -> Result<Readme, ApiError> {
    if body.content.len() > README_MAX_BYTES {
        return Err(ApiError::invalid(
            ErrorCode::InvalidBody,
            format!("content must be at most {README_MAX_BYTES} bytes"),
        ));
    }
    if body.content.contains('\0') {
        return Err(ApiError::invalid(
            ErrorCode::InvalidBody,
            "content must not contain NUL",
        ));
    }
    state
        .store()
        .set_element_readme(&element.id, &body.content, state.now_ms())
        .await?;
    Ok(Readme {
        content: body.content,
        format: "markdown",
    })
}
