//! Who a call was with: the memory user id, found in this order:
//!
//! 1. `data.user_id` or the initiation data (what our conversation-init webhook returned);
//! 2. the caller number's existing binding;
//! 3. a new guest user bound to the number (the same id the initiation webhook would make);
//!
//! and none at all when the call carries neither an id nor a number (e.g. a web widget with no
//! user id): such calls are recorded but produce no memories.

use memvox_core::guest_user_id;
use memvox_elevenlabs::post_call::TranscriptionData;
use memvox_store::{Store, StoreResult};

/// The user a call belongs to and a phone binding to record with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallIdentity {
    /// Memory user id.
    pub user_id: String,
    /// `(number, user)` to bind when the number is not bound yet.
    pub bind_caller: Option<(String, String)>,
}

/// Resolves the identity of a transcribed call.
pub async fn resolve(
    store: &dyn Store,
    data: &TranscriptionData,
) -> StoreResult<Option<CallIdentity>> {
    let number = data
        .remote_number()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let Some(user_id) = data.user_id() {
        return Ok(Some(CallIdentity {
            user_id: user_id.to_owned(),
            bind_caller: number.map(|n| (n.to_owned(), user_id.to_owned())),
        }));
    }
    let Some(number) = number else {
        return Ok(None);
    };
    if let Some(user_id) = store.user_for_caller(number).await? {
        return Ok(Some(CallIdentity {
            user_id,
            bind_caller: None,
        }));
    }
    let guest = guest_user_id(number);
    Ok(Some(CallIdentity {
        bind_caller: Some((number.to_owned(), guest.clone())),
        user_id: guest,
    }))
}
