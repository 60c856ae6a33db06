//! Who a call was with. Two sources are trusted, nothing else:
//!
//! * the phone channel: the other party's number (`metadata.phone_call.external_number`, or
//!   the dynamic variables read direction-aware, our own numbers excluded), put in the signed
//!   webhook by ElevenLabs, where no client can set it. Its binding is the user; an unbound
//!   number becomes a guest (a keyed hash of the number, the id conversation-init gave) bound
//!   to it.
//! * an identity token in `data.user_id` / the initiation data, verified for this agent and
//!   conversation and unexpired at the call's start: memvox's own (from conversation-init) or
//!   an integrator's (signed with one of `identity.integrator_secrets`).
//!
//! On a phone call the number decides: memvox's token only confirms it (a token naming
//! another user — e.g. our own number's, from an outbound call's init — is refused, so
//! callees never merge); an integrator's token names the user instead, without binding the
//! number. Without a number only a verified token identifies the caller: a raw id from a web
//! widget reaches nobody, and the call is recorded without memories.
//!
//! Everything happens within the call's scope (`identity.scope`): per agent, a number is
//! bound, and a guest or integrator id lives, under the agent's prefix.
//!
//! [`conflict_keys`] names what of this a batch's events may share before they are resolved
//! (conversation, number, claimed user), so the handler never prepares two of them at once.

use memvox_elevenlabs::post_call::TranscriptionData;
use memvox_elevenlabs::{EventPayload, WebhookEvent};
use memvox_identity::{Claims, Expected, Identities, Issuer, TokenError, Verified};
use memvox_store::{Store, StoreResult};

/// The user a call belongs to and a phone binding to record with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallIdentity {
    /// Memory user id.
    pub user_id: String,
    /// `(number key in the call's scope, user)` to bind when the number is not bound yet.
    pub bind_caller: Option<(String, String)>,
}

/// The outcome of resolving a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// Whom the call is with, if anyone.
    pub identity: Option<CallIdentity>,
    /// Why the identity the call claimed was not taken (a [`TokenError`] label, or
    /// `phone_mismatch`), for the metric.
    pub refused: Option<&'static str>,
}

/// The other party's number of a transcribed call, direction-aware.
pub fn remote_number<'a>(identities: &Identities, data: &'a TranscriptionData) -> Option<&'a str> {
    data.remote_number(|n| identities.is_own_number(n))
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

/// The claimed identity of the call, verified.
fn claimed(
    identities: &Identities,
    data: &TranscriptionData,
) -> Option<Result<Verified, TokenError>> {
    let expected = Expected {
        agent: Some(&data.agent_id),
        conversation: Some(&data.conversation_id),
        at_secs: data.metadata.start_time_unix_secs,
    };
    data.user_id()
        .map(|token| identities.keys.verify(token, &expected))
}

/// Resolves the identity of a transcribed call.
pub async fn resolve(
    store: &dyn Store,
    identities: &Identities,
    data: &TranscriptionData,
) -> StoreResult<Resolution> {
    let claimed = claimed(identities, data);
    let Some(scope) = identities.scope(Some(&data.agent_id)) else {
        // Scopes per agent, and the call names none: it belongs to nobody.
        return Ok(Resolution {
            identity: None,
            refused: None,
        });
    };
    if let Some(Ok(verified)) = &claimed
        && verified.issuer == Issuer::Integrator
    {
        return Ok(found(identities.user_of(scope, verified), None));
    }
    let refused = match &claimed {
        Some(Err(error)) => Some(error.label()),
        _ => None,
    };
    let Some(number) = remote_number(identities, data) else {
        return Ok(match claimed {
            Some(Ok(verified)) => found(identities.user_of(scope, &verified), None),
            _ => Resolution {
                identity: None,
                refused,
            },
        });
    };
    let key = identities.phone_key(scope, number);
    let mut resolution = match store.user_for_caller(&key).await? {
        Some(user_id) => found(user_id, None),
        None => {
            let guest = identities.guest_user_id(scope, number);
            found(guest.clone(), Some((key, guest)))
        }
    };
    resolution.refused = match (&claimed, &resolution.identity) {
        (Some(Ok(verified)), Some(identity)) if verified.claims.sub != identity.user_id => {
            tracing::info!(
                conversation_id = %data.conversation_id,
                "the call's identity token names another user than its number: the number decides"
            );
            Some("phone_mismatch")
        }
        _ => refused,
    };
    Ok(resolution)
}

fn found(user_id: String, bind_caller: Option<(String, String)>) -> Resolution {
    Resolution {
        identity: Some(CallIdentity {
            user_id,
            bind_caller,
        }),
        refused: None,
    }
}

/// What preparing an event reads that an earlier event of its batch may write: its
/// conversation, the caller number it is resolved by and the user its claimed identity names.
pub(crate) fn conflict_keys(identities: &Identities, parsed: &WebhookEvent) -> Vec<String> {
    let mut keys: Vec<String> = parsed
        .conversation_id()
        .map(str::to_owned)
        .into_iter()
        .collect();
    if let EventPayload::Transcription(data) = &parsed.payload {
        keys.extend(remote_number(identities, data).map(number_key));
        // Unverified, only to group: a token names its user, a raw id itself.
        keys.extend(
            data.user_id()
                .map(|claimed| Claims::peek(claimed).map_or(claimed.to_owned(), |c| c.sub)),
        );
    }
    keys
}

/// The group key of a caller number.
fn number_key(number: &str) -> String {
    format!("tel:{}", number.trim())
}
