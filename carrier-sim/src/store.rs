//! The simulator's memory: accounts, numbers, messages, calls, the webhook log, and the
//! simulation controls (faults, callees, undeliverable numbers).
//!
//! One [`Store`] behind one mutex in [`Sim`]. The lock is taken for a few field updates at a
//! time and never held across an await, so handlers and background tasks never wait long
//! on each other. Background tasks are kept in a [`JoinSet`] so shutdown can stop them.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::calls::Call;
use crate::calls::callee::Callee;
use crate::clock::{Clock, new_id};
use crate::config::{Account, SimConfig};
use crate::error::SimError;
use crate::faults::Fault;
use crate::numbers::Number;
use crate::sms::Sms;

/// An account and what the API lets it change.
#[derive(Debug, Clone)]
pub(crate) struct AccountState {
    pub(crate) account: Account,
    /// `u` and 32 hex digits, shown as `id` by `/a1/me`.
    pub(crate) id: String,
    /// Set by `POST /a1/me` (doc §2.7); 0 until then.
    pub(crate) creditalert: i64,
}

impl AccountState {
    /// The `GET /a1/me` object, keys as in the documented example (doc §2.7).
    pub(crate) fn me_json(&self) -> Value {
        let a = &self.account;
        json!({
            "mobilenumber": a.mobilenumber,
            "displayname": a.username,
            "id": self.id,
            "currency": a.currency,
            "balance": a.balance,
            "email": format!("{}@example.invalid", a.username),
            "creditalert": self.creditalert,
        })
    }
}

/// Everything the simulator holds.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) accounts: Vec<AccountState>,
    /// Allocated numbers (active and deallocated), in allocation order.
    pub(crate) numbers: Vec<Number>,
    /// Inventory numbers never allocated, in configuration order.
    pub(crate) free_numbers: Vec<String>,
    pub(crate) sms: Vec<Sms>,
    pub(crate) calls: Vec<Call>,
    /// Every webhook attempt, in order.
    pub(crate) webhooks: Vec<Value>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) callees: BTreeMap<String, Callee>,
    pub(crate) undeliverable: BTreeSet<String>,
}

impl Store {
    fn new(config: &SimConfig) -> Self {
        let accounts = config
            .accounts
            .iter()
            .map(|account| AccountState {
                account: account.clone(),
                id: new_id('u'),
                creditalert: 0,
            })
            .collect();
        Self {
            accounts,
            free_numbers: config.numbers.clone(),
            ..Self::default()
        }
    }

    /// The account called `username`.
    pub(crate) fn account_mut(&mut self, username: &str) -> Option<&mut AccountState> {
        self.accounts
            .iter_mut()
            .find(|a| a.account.username == username)
    }

    /// Takes `cost` from the balance, or 403 `Not enough credits` when it is short.
    pub(crate) fn charge(&mut self, username: &str, cost: i64) -> Result<(), SimError> {
        let account = self.account_mut(username).ok_or(SimError::Unauthorized)?;
        if account.account.balance < cost {
            return Err(SimError::NotEnoughCredits);
        }
        account.account.balance -= cost;
        Ok(())
    }

    /// Takes `cost` even if the balance goes negative (call minutes already spoken).
    pub(crate) fn charge_after_the_fact(&mut self, username: &str, cost: i64) {
        if let Some(account) = self.account_mut(username) {
            account.account.balance -= cost;
        }
    }

    pub(crate) fn sms_mut(&mut self, id: &str) -> Option<&mut Sms> {
        self.sms.iter_mut().find(|s| s.id == id)
    }

    pub(crate) fn call_mut(&mut self, id: &str) -> Option<&mut Call> {
        self.calls.iter_mut().find(|c| c.id == id)
    }

    /// The active number `number` (E.164), whoever owns it.
    pub(crate) fn active_number(&self, number: &str) -> Option<&Number> {
        self.numbers
            .iter()
            .find(|n| n.number == number && n.is_active())
    }

    /// `GET /sim/state`: everything, with SMS and call fields the API hides.
    pub(crate) fn state_json(&self) -> Value {
        let accounts: Vec<Value> = self
            .accounts
            .iter()
            .map(|a| {
                let mut me = a.me_json();
                me["username"] = json!(a.account.username);
                me
            })
            .collect();
        json!({
            "accounts": accounts,
            "numbers": self.numbers.iter().map(Number::state_json).collect::<Vec<_>>(),
            "free_numbers": self.free_numbers,
            "sms": self.sms.iter().map(Sms::state_json).collect::<Vec<_>>(),
            "calls": self.calls.iter().map(Call::state_json).collect::<Vec<_>>(),
            "webhooks": self.webhooks,
            "faults": self.faults.iter().map(Fault::to_json).collect::<Vec<_>>(),
            "callees": self.callees.values().map(Callee::to_json).collect::<Vec<_>>(),
            "undeliverable": self.undeliverable,
        })
    }
}

/// The simulator shared by every route and background task.
#[derive(Debug)]
pub(crate) struct Sim {
    pub(crate) config: SimConfig,
    pub(crate) clock: Clock,
    /// The client for webhooks and `play` downloads.
    pub(crate) http: reqwest::Client,
    store: Mutex<Store>,
    tasks: Mutex<JoinSet<()>>,
}

impl Sim {
    pub(crate) fn new(config: SimConfig) -> Result<Self, SimError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(SimError::Client)?;
        Ok(Self {
            store: Mutex::new(Store::new(&config)),
            config,
            clock: Clock::default(),
            http,
            tasks: Mutex::new(JoinSet::new()),
        })
    }

    /// Runs `f` on the store under the lock.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.store.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `task` in the background until it ends or the simulator shuts down.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        // Reap finished tasks so the set does not grow with every SMS.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    /// Stops every background task.
    pub(crate) fn abort_tasks(&self) {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .abort_all();
    }
}
