//! `export_bundle` / `import_bundle`: elements as a portable JSON envelope.
//!
//! The interface documents describe git bundles; voxgate stores elements in its database,
//! not in git, so a bundle here is a JSON envelope (base64 in `bundle_base64`) holding each
//! element's type, slug, name, intention, metadata, README and spec. An element's export
//! holds that element; a circle's export (`/api/{circle}/ops/export/bundle`) holds all its
//! live elements.
//!
//! What cannot travel does not: secrets are exported masked and dropped on import (set
//! them again; the answer says which), and what only operations set (a leased or rented
//! number) is not claimed by the copy. Imported elements get new ids; an existing slug is
//! skipped unless `overwrite` is true, when the bundle's spec becomes its new version.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lifecycle::{CreateElement, README_MAX_BYTES, UpdateElement, create, update};
use super::sealed::MASK;
use super::{ElementType, ElementView};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::ids::rfc3339;
use crate::state::AppState;
use crate::store::Element;

/// The envelope's `format`.
pub const FORMAT: &str = "voxgate.elements";
/// The envelope's version.
const VERSION: u32 = 1;
/// Largest bundle accepted, decoded.
const MAX_BUNDLE_BYTES: usize = 16 * 1024 * 1024;
/// Most elements in a bundle.
const MAX_ELEMENTS: usize = 1000;

/// The envelope.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    format: String,
    version: u32,
    exported_at: String,
    elements: Vec<Exported>,
}

/// One element in a bundle.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Exported {
    element_type: String,
    slug: String,
    name: String,
    #[serde(default)]
    intention: Option<String>,
    #[serde(default)]
    meta: Value,
    #[serde(default)]
    readme: String,
    spec: Value,
}

/// `export_bundle` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Bundle {
    /// Base64 (standard) of the JSON envelope.
    pub bundle_base64: String,
    /// `voxgate.elements`.
    pub format: &'static str,
    /// Elements in it.
    pub elements: usize,
    /// Decoded size.
    pub size_bytes: usize,
}

/// `import_bundle` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBundle {
    /// Base64 of a bundle from `export_bundle`.
    pub bundle_base64: String,
    /// Replace the spec of elements with the same slug (default: skip them).
    #[serde(default)]
    pub overwrite: bool,
}

/// `import_bundle` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// Elements created.
    pub imported: usize,
    /// Existing elements whose spec was replaced.
    pub overwritten: usize,
    /// Existing elements left alone.
    pub skipped: usize,
    /// Elements that could not be imported.
    pub errors: Vec<ImportError>,
    /// What the importer should know (secrets to set again, numbers not carried).
    pub warnings: Vec<String>,
    /// The elements created or overwritten.
    pub elements: Vec<ElementView>,
}

/// One element of a bundle that failed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportError {
    /// Its slug.
    pub slug: String,
    /// The error code.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// Exports `elements`.
pub async fn export(state: &AppState, elements: &[Element]) -> Result<Bundle, ApiError> {
    let mut exported = Vec::with_capacity(elements.len());
    for element in elements {
        let mut spec = element.spec.clone();
        if let Ok(t) = ElementType::parse(&element.element_type) {
            t.redact(&mut spec);
        }
        exported.push(Exported {
            element_type: element.element_type.clone(),
            slug: element.slug.clone(),
            name: element.name.clone(),
            intention: element.intention.clone(),
            meta: element.meta.clone(),
            readme: state.store().element_readme(&element.id).await?,
            spec,
        });
    }
    let envelope = Envelope {
        format: FORMAT.to_owned(),
        version: VERSION,
        exported_at: rfc3339(state.now_ms()),
        elements: exported,
    };
    let bytes = serde_json::to_vec(&envelope).map_err(|e| ApiError::Store(e.to_string()))?;
    Ok(Bundle {
        bundle_base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
        format: FORMAT,
        elements: envelope.elements.len(),
        size_bytes: bytes.len(),
    })
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid(ErrorCode::ElementInvalidBundle, message)
}

fn decode(text: &str) -> Result<Envelope, ApiError> {
    if text.len() > MAX_BUNDLE_BYTES / 3 * 4 + 4 {
        return Err(invalid(format!(
            "bundle is larger than {MAX_BUNDLE_BYTES} bytes"
        )));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| invalid("bundle_base64 is not base64"))?;
    let envelope: Envelope = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("not a voxgate bundle: {e}")))?;
    if envelope.format != FORMAT || envelope.version != VERSION {
        return Err(invalid(format!(
            "bundle format {:?} v{} is not {FORMAT} v{VERSION}",
            crate::e164::clip(&envelope.format),
            envelope.version
        )));
    }
    if envelope.elements.len() > MAX_ELEMENTS {
        return Err(invalid(format!(
            "a bundle holds at most {MAX_ELEMENTS} elements"
        )));
    }
    Ok(envelope)
}

/// Imports a bundle into the caller's circle.
pub async fn import(
    state: &AppState,
    caller: &Caller,
    body: &ImportBundle,
) -> Result<Imported, ApiError> {
    let envelope = decode(&body.bundle_base64)?;
    let mut out = Imported {
        imported: 0,
        overwritten: 0,
        skipped: 0,
        errors: Vec::new(),
        warnings: Vec::new(),
        elements: Vec::new(),
    };
    for item in envelope.elements {
        let slug = item.slug.clone();
        match import_one(state, caller, item, body.overwrite, &mut out).await {
            Ok(()) => {}
            Err(e) => out.errors.push(ImportError {
                slug,
                code: e.code().to_owned(),
                message: e.to_string(),
            }),
        }
    }
    Ok(out)
}

async fn import_one(
    state: &AppState,
    caller: &Caller,
    item: Exported,
    overwrite: bool,
    out: &mut Imported,
) -> Result<(), ApiError> {
    let element_type = ElementType::parse(&item.element_type)?;
    if item.readme.len() > README_MAX_BYTES {
        return Err(invalid("readme is larger than 1 MiB"));
    }
    let mut spec = item.spec;
    drop_masked(&mut spec, &item.slug, &mut out.warnings);
    let existing = state.store().element(&caller.circle.id, &item.slug).await?;
    let view = match existing {
        Some(_) if !overwrite => {
            out.skipped += 1;
            return Ok(());
        }
        Some(current) => {
            element_type.carry_managed(&mut spec, &current.spec);
            let change = UpdateElement {
                spec: Some(spec),
                name: Some(item.name),
                intention: Some(item.intention.unwrap_or_default()),
                deep: false,
            };
            let view = update(state, &current, &change).await?;
            out.overwritten += 1;
            view
        }
        None => {
            let before = spec.clone();
            element_type.carry_managed(&mut spec, &Value::Null);
            if before != spec {
                out.warnings.push(format!(
                    "{}: the number it held was not imported (claim or provision one)",
                    item.slug
                ));
            }
            let view = create(
                state,
                caller,
                CreateElement {
                    element_type: item.element_type,
                    slug: item.slug,
                    spec: Some(spec),
                    name: Some(item.name),
                    intention: item.intention,
                },
            )
            .await?;
            out.imported += 1;
            view
        }
    };
    if let Some(element) = state.store().element(&caller.circle.id, &view.slug).await? {
        state
            .store()
            .set_element_readme(&element.id, &item.readme, state.now_ms())
            .await?;
        if item.meta.is_object() {
            state
                .store()
                .set_element_meta(&element.id, &item.meta, state.now_ms())
                .await?;
        }
    }
    out.elements.push(view);
    Ok(())
}

/// Removes masked secrets from an imported spec, with a warning naming each.
fn drop_masked(spec: &mut Value, slug: &str, warnings: &mut Vec<String>) {
    if let Value::Object(fields) = spec {
        let masked: Vec<String> = fields
            .iter()
            .filter(|(_, v)| v.as_str() == Some(MASK))
            .map(|(k, _)| k.clone())
            .collect();
        for field in masked {
            fields.remove(&field);
            warnings.push(format!(
                "{slug}: {field} is not exported; set it again with update"
            ));
        }
    }
}
