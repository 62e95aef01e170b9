//! An email element's receiving addresses: `provision-address`, `remove-address` and
//! `list-addresses`.
//!
//! The spec's `address` is the primary one: always there, never removable, never stored
//! here. Extra addresses are rows of their own ([`AddressRecord`]), each owned by one
//! element across every circle, so inbound mail to an address has one destination. An
//! address is taken when another element has it as an extra address or as its primary
//! `address`.
//!
//! On the platform path (`stalwart_managed`) voxgate's own mail server receives for the
//! address, so its domain must be one the circle may use: a platform domain or a domain
//! the circle verified ([`super::domains`]). An element with its own mail server is not
//! asked: that server decides what it accepts.

use serde::Deserialize;
use serde_json::{Value, json};

use super::address::Address;
use crate::element::email::{EmailSpec, spec_of};
use crate::error::{ApiError, ErrorCode};
use crate::ids::rfc3339;
use crate::state::AppState;
use crate::store::{AddressRecord, Element};

/// `provision-address`, `remove-address`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    /// `local@domain` (case does not matter; stored lower-cased).
    #[schema(example = "sales@example.com")]
    pub address: String,
}

/// The element's primary address (its spec's `address`).
fn primary(spec: &EmailSpec) -> Result<Address, ApiError> {
    Address::parse("address", &spec.address)
}

fn taken(address: &Address) -> ApiError {
    ApiError::conflict(
        ErrorCode::EmailAliasExists,
        format!("{address} belongs to another email element"),
    )
}

/// `provision-address`: adds a receiving address (idempotent for this element).
pub async fn provision(
    state: &AppState,
    element: &Element,
    body: &AddressRequest,
) -> Result<Value, ApiError> {
    let spec = spec_of(element)?;
    let address = Address::parse("address", &body.address)?;
    let answer = |primary: bool, created: bool| json!({"address": address.as_str(), "element_id": element.id, "primary": primary, "created": created});
    if address == primary(&spec)? {
        return Ok(answer(true, false));
    }
    if let Some(record) = state.store().email().address(address.as_str()).await? {
        return if record.element_id == element.id {
            Ok(answer(false, false))
        } else {
            Err(taken(&address))
        };
    }
    if another_has_as_primary(state, element, &address).await? {
        return Err(taken(&address));
    }
    if spec.stalwart_managed {
        check_domain(state, element, &address).await?;
    }
    let record = AddressRecord {
        address: address.as_str().to_owned(),
        circle_id: element.circle_id.clone(),
        element_id: element.id.clone(),
        created_at: state.now_ms(),
    };
    // The primary key decides a race: the loser reads who won.
    if state.store().email().insert_address(&record).await? {
        return Ok(answer(false, true));
    }
    match state.store().email().address(address.as_str()).await? {
        Some(won) if won.element_id == element.id => Ok(answer(false, false)),
        _ => Err(taken(&address)),
    }
}

/// Whether another live email element (any circle) receives at `address` already: as
/// its primary, its `from_address`, one of its `accepted_addresses`, or at one of its
/// `accepted_domains` (the listener's own routing decides).
async fn another_has_as_primary(
    state: &AppState,
    element: &Element,
    address: &Address,
) -> Result<bool, ApiError> {
    let elements = state.store().email().email_elements().await?;
    let primary_elsewhere = elements.iter().any(|other| {
        other.id != element.id
            && spec_of(other)
                .ok()
                .and_then(|spec| primary(&spec).ok())
                .is_some_and(|p| p == *address)
    });
    let routed_elsewhere = super::receive::route(state, address.as_str())
        .await?
        .is_some_and(|other| other.id != element.id);
    Ok(primary_elsewhere || routed_elsewhere)
}

/// The platform path's domain rule: a platform domain or a verified domain of the circle.
async fn check_domain(
    state: &AppState,
    element: &Element,
    address: &Address,
) -> Result<(), ApiError> {
    let domain = address.domain();
    let platform = state
        .email()
        .platform
        .as_ref()
        .is_some_and(|p| p.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)));
    if platform {
        return Ok(());
    }
    let record = state.store().email().domain(domain).await?;
    let verified =
        record.is_some_and(|d| d.circle_id == element.circle_id && d.verified_at.is_some());
    if verified {
        Ok(())
    } else {
        Err(ApiError::invalid(
            ErrorCode::EmailDomainNotVerified,
            format!(
                "{domain} is neither a platform domain nor a verified domain of this circle (add_domain, then verify_domain)"
            ),
        ))
    }
}

/// `remove-address`: removes an extra address (the primary one is protected).
pub async fn remove(
    state: &AppState,
    element: &Element,
    body: &AddressRequest,
) -> Result<Value, ApiError> {
    let spec = spec_of(element)?;
    let address = Address::parse("address", &body.address)?;
    if address == primary(&spec)? {
        return Err(ApiError::conflict(
            ErrorCode::EmailPrimaryAddress,
            format!(
                "{address} is the element's primary address: change the spec's address instead"
            ),
        ));
    }
    let removed = state
        .store()
        .email()
        .delete_address(&element.id, address.as_str())
        .await?;
    if !removed {
        return Err(ApiError::not_found(
            ErrorCode::EmailAddressNotFound,
            format!("{address} is not an address of this element"),
        ));
    }
    Ok(json!({"address": address.as_str(), "removed": true}))
}

/// `list-addresses`: the primary address first, then the extra ones by address.
pub async fn list(state: &AppState, element: &Element) -> Result<Value, ApiError> {
    let spec = spec_of(element)?;
    let primary = primary(&spec)?;
    let extra = state.store().email().addresses(&element.id).await?;
    let mut addresses = vec![json!({
        "address": primary.as_str(),
        "primary": true,
        "created_at": rfc3339(element.created_at),
    })];
    addresses.extend(extra.iter().filter(|r| r.address != primary.as_str()).map(
        |r| json!({"address": r.address, "primary": false, "created_at": rfc3339(r.created_at)}),
    ));
    Ok(json!({"primary": primary.as_str(), "addresses": addresses}))
}
