//! Who a call was with. The phone channel decides whenever the call has one: the number of the
//! other party (`metadata.phone_call.external_number`, or the dynamic variables read
//! direction-aware, our own numbers excluded) is signed into the webhook by ElevenLabs and no
//! client can set it. That number's binding is the user; an unbound number becomes a guest
//! user bound to it (the id the conversation-init webhook gave). A user id the call claims
//! (`data.user_id`, the initiation data) is not trusted over the number — on an outbound call
//! it may name our own number's user, which would merge every callee into one — and is only
//! used when the call has no number at all.
//!
//! No number and no id (e.g. a web widget with no user id): the call is recorded but produces
//! no memories.

use memvox_core::guest_user_id;
use memvox_elevenlabs::post_call::TranscriptionData;
use memvox_identity::IdentitySettings;
use memvox_store::{Store, StoreResult};

/// The user a call belongs to and a phone binding to record with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallIdentity {
    /// Memory user id.
    pub user_id: String,
    /// `(number, user)` to bind when the number is not bound yet.
    pub bind_caller: Option<(String, String)>,
}

/// The other party's number of a transcribed call, direction-aware.
pub fn remote_number<'a>(
    settings: &IdentitySettings,
    data: &'a TranscriptionData,
) -> Option<&'a str> {
    data.remote_number(|n| settings.is_own_number(n))
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

/// Resolves the identity of a transcribed call.
pub async fn resolve(
    store: &dyn Store,
    settings: &IdentitySettings,
    data: &TranscriptionData,
) -> StoreResult<Option<CallIdentity>> {
    let Some(number) = remote_number(settings, data) else {
        return Ok(data.user_id().map(|user_id| CallIdentity {
            user_id: user_id.to_owned(),
            bind_caller: None,
        }));
    };
    let identity = match store.user_for_caller(number).await? {
        Some(user_id) => CallIdentity {
            user_id,
            bind_caller: None,
        },
        None => {
            let guest = guest_user_id(number);
            CallIdentity {
                bind_caller: Some((number.to_owned(), guest.clone())),
                user_id: guest,
            }
        }
    };
    if data
        .user_id()
        .is_some_and(|claimed| claimed != identity.user_id)
    {
        tracing::info!(
            conversation_id = %data.conversation_id,
            "the call's claimed user id differs from its number's user: the number decides"
        );
    }
    Ok(Some(identity))
}
