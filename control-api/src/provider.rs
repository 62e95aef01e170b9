//! Carrier credentials (providers): which kinds voxgate drives itself.

/// The providers voxgate places and takes calls (or mail) through: `46elks`, `sip`,
/// `email`. Others (e.g. `twilio`) are stored, sealed and listed, but not used.
pub(crate) fn driven(provider: &str) -> bool {
    matches!(provider, "46elks" | "sip" | "email")
}
