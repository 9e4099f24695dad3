//! API keys this node has authenticated from the database, kept so that a
//! later request with the same key can be checked without a round trip of its
//! own (see `store::KeyProof`).
//!
//! Only what never changes for a key id is trusted from here: its company,
//! secret hash, permissions, expiry, name and environment (nothing updates
//! them). What can change — revocation, the company's deactivation — is
//! checked again by the very statement that serves the request
//! (`store::KeyProof`), so every node sees it at the next request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::ApiKeyRecord;

/// More distinct keys than this in use on one node is unusual; past it the
/// cache starts over rather than track recency (a miss costs one read).
const CAPACITY: usize = 4096;

#[derive(Default)]
pub struct KeyCache {
    keys: RwLock<HashMap<String, Arc<ApiKeyRecord>>>,
}

impl KeyCache {
    pub fn get(&self, key_id: &str) -> Option<Arc<ApiKeyRecord>> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(key_id).cloned()
    }

    /// Remembers a key that has just authenticated against the database.
    pub fn insert(&self, key: &ApiKeyRecord) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        if keys.len() >= CAPACITY && !keys.contains_key(&key.id) {
            keys.clear();
        }
        keys.insert(key.id.clone(), Arc::new(key.clone()));
    }

    /// Forgets a key a statement has refused (revoked, or its company deactivated).
    pub fn remove(&self, key_id: &str) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.remove(key_id);
    }
}
