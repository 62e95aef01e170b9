//! First start and key management: the `default` circle, its first admin key and its seed
//! agent; `voxgate keys create`.

use serde_json::Value;

use crate::auth::{Role, issue_key};
use crate::element::check_name;
use crate::error::{ApiError, ErrorCode};
use crate::store::Store;

/// The circle every install has.
pub const DEFAULT_CIRCLE: &str = "default";

/// Circle names the router reserves for its own paths.
const RESERVED: [&str; 3] = ["v1", "webhooks", "openapi.json"];

/// What the first start made.
#[derive(Debug)]
pub struct FirstStart {
    /// The admin key of the `default` circle, to print once.
    pub admin_key: String,
}

/// On an empty store: creates the `default` circle, an admin key for it (returned, to be
/// printed once) and the seed agent (`seed`: the agent body from `voxgate.toml`, merged
/// over the defaults). Does nothing once any key exists.
///
/// # Errors
///
/// The store's errors; `AGENT_INVALID` if `seed` is not a valid agent.
pub async fn first_start(store: &dyn Store, seed: &Value) -> Result<Option<FirstStart>, ApiError> {
    if store.key_count().await? > 0 {
        return Ok(None);
    }
    let circle = store.ensure_circle(DEFAULT_CIRCLE).await?;
    if store.agents(&circle.id).await?.is_empty() {
        let agent = crate::agent::new_record(&circle.id, seed)?;
        store.insert_agent(&agent).await?;
    }
    let key = issue_key(&circle.id, Role::Admin);
    store.insert_key(&key.record).await?;
    Ok(Some(FirstStart {
        admin_key: key.secret,
    }))
}

/// `voxgate keys create --circle NAME --role ROLE`: a new key, shown once; the circle is
/// created if it does not exist.
///
/// # Errors
///
/// `CIRCLE_INVALID_NAME` for a bad or reserved name; the store's errors.
pub async fn create_key(store: &dyn Store, circle: &str, role: Role) -> Result<String, ApiError> {
    check_name("circle", ErrorCode::CircleInvalidName, circle)?;
    if RESERVED.contains(&circle) {
        return Err(ApiError::invalid(
            ErrorCode::CircleInvalidName,
            format!("{circle:?} is reserved"),
        ));
    }
    let circle = store.ensure_circle(circle).await?;
    let key = issue_key(&circle.id, role);
    store.insert_key(&key.record).await?;
    Ok(key.secret)
}
