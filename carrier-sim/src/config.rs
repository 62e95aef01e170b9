//! The simulator's configuration: accounts, the number inventory, prices and timings.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// How the simulated carrier is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Where to listen. Default `127.0.0.1:0` (a free port; read it from
    /// [`SimHandle::addr`](crate::SimHandle::addr)).
    pub listen: SocketAddr,
    /// The API accounts. Default: one account `sim`/`sim-secret` with 1000 SEK.
    pub accounts: Vec<Account>,
    /// The E.164 numbers `POST /a1/numbers` allocates from, in order. A number's country
    /// comes from its prefix (`+46` is `se`, see `numbers::country_of`). Default
    /// `+46766860001..=+46766860020`.
    pub numbers: Vec<String>,
    /// The price of one SMS part in 1/10000 of the currency. Default 5000 (0.50 SEK), the
    /// `cost` of the documented send-SMS example (doc §2.2).
    pub sms_cost: i64,
    /// The price of an answered call per started minute, in 1/10000 of the currency.
    /// Default 2000 (0.20 SEK).
    pub call_cost_per_minute: i64,
    /// How long after `sent` an SMS becomes `delivered` (or `failed`). Default 50 ms.
    pub dlr_delay: Duration,
    /// The pause between attempts of a failed SMS or hang-up webhook. 46elks retries "at
    /// least 5 times per callback" (doc §3.1). Default 100 ms.
    pub webhook_retry_delay: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            accounts: vec![Account::new("sim", "sim-secret")],
            numbers: (1..=20).map(|n| format!("+467668600{n:02}")).collect(),
            sms_cost: 5000,
            call_cost_per_minute: 2000,
            dlr_delay: Duration::from_millis(50),
            webhook_retry_delay: Duration::from_millis(100),
        }
    }
}

/// One API account (HTTP Basic credentials) and what `GET /a1/me` shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The API username.
    pub username: String,
    /// The API password.
    pub password: String,
    /// The balance in 1/10000 of `currency` (10 000 000 is 1000 SEK).
    pub balance: i64,
    /// The account currency, `SEK` or `EUR`.
    pub currency: String,
    /// The sign-up mobile number: shown by `/a1/me` and allowed as a call's `from`.
    pub mobilenumber: String,
}

impl Account {
    /// An account with 1000 SEK and the sign-up number `+46700000001`.
    pub fn new(username: &str, password: &str) -> Self {
        Self {
            username: username.to_owned(),
            password: password.to_owned(),
            balance: 10_000_000,
            currency: "SEK".to_owned(),
            mobilenumber: "+46700000001".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_inventory_is_twenty_swedish_numbers() {
        let config = SimConfig::default();
        assert_eq!(config.numbers.len(), 20);
        assert_eq!(config.numbers[0], "+46766860001");
        assert_eq!(config.numbers[19], "+46766860020");
        assert_eq!(config.accounts[0].balance, 10_000_000);
    }
}
