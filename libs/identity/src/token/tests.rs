//! Tokens: round trip, every refusal, integrator signing, keyed guest ids.
#![allow(clippy::unwrap_used)]

use super::*;

const NOW: u64 = 1_767_225_645;

fn keys() -> IdentityKeys {
    IdentityKeys::new(
        Some(b"memvox-signing-key-of-32-bytes!!".to_vec()),
        &["integrator-shared-secret-32-bytes".to_owned()],
        3600,
    )
}

fn expected<'a>(agent: &'a str, conversation: &'a str, at_secs: u64) -> Expected<'a> {
    Expected {
        agent: Some(agent),
        conversation: Some(conversation),
        at_secs,
    }
}

#[test]
fn an_issued_token_verifies_for_its_agent_and_conversation_until_it_expires() {
    let keys = keys();
    let token = keys.issue("dana", "agent_1", Some("conv_1"), NOW).unwrap();
    assert!(token.starts_with(TOKEN_PREFIX));
    let verified = keys
        .verify(&token, &expected("agent_1", "conv_1", NOW + 10))
        .unwrap();
    assert_eq!(verified.claims.sub, "dana");
    assert_eq!(verified.issuer, Issuer::Memvox);
    assert_eq!(Claims::peek(&token), Some(verified.claims.clone()));
    assert_eq!(Claims::peek("dana"), None);
    let refused = |e: Expected<'_>| keys.verify(&token, &e).unwrap_err();
    assert_eq!(
        refused(expected("agent_1", "conv_1", NOW + 3600)),
        TokenError::Expired
    );
    assert_eq!(
        refused(expected("agent_2", "conv_1", NOW)),
        TokenError::WrongAgent
    );
    assert_eq!(
        refused(expected("agent_1", "conv_2", NOW)),
        TokenError::WrongConversation
    );
}

#[test]
fn raw_ids_tampered_tokens_and_other_keys_verify_as_nothing() {
    let keys = keys();
    let e = expected("agent_1", "conv_1", NOW);
    assert_eq!(keys.verify("dana", &e), Err(TokenError::NotAToken));
    assert_eq!(keys.verify("guest_0123", &e), Err(TokenError::NotAToken));
    let token = keys.issue("dana", "agent_1", Some("conv_1"), NOW).unwrap();
    let (head, signature) = token.rsplit_once('.').unwrap();
    let forged_claims =
        URL_SAFE_NO_PAD.encode(br#"{"sub":"eve","agt":"agent_1","exp":9999999999}"#);
    let forged = format!("{TOKEN_PREFIX}{forged_claims}.{signature}");
    assert_eq!(keys.verify(&forged, &e), Err(TokenError::BadSignature));
    assert_eq!(
        keys.verify(&format!("{head}.AAAA"), &e),
        Err(TokenError::BadSignature)
    );
    let other = IdentityKeys::new(Some(b"another-key-another-key-another!".to_vec()), &[], 60);
    assert_eq!(other.verify(&token, &e), Err(TokenError::BadSignature));
    let keyless = IdentityKeys::new(None, &[], 60);
    assert!(keyless.issue("dana", "agent_1", None, NOW).is_none());
    assert_eq!(keyless.verify(&token, &e), Err(TokenError::BadSignature));
}

#[test]
fn an_integrator_signs_ids_with_its_shared_secret() {
    let integrator = IdentityKeys::new(
        Some(b"integrator-shared-secret-32-bytes".to_vec()),
        &[],
        3600,
    );
    let token = integrator.issue("crm_42", "agent_1", None, NOW).unwrap();
    let verified = keys()
        .verify(&token, &expected("agent_1", "conv_9", NOW))
        .unwrap();
    assert_eq!(verified.claims.sub, "crm_42");
    assert_eq!(verified.issuer, Issuer::Integrator);
}

#[test]
fn the_documented_integrator_recipe_matches() {
    // Made by the shell recipe of the README's security section (printf, basenc, openssl)
    // with USER_ID=crm_42, AGENT_ID=agent_1, exp 1767229245 and this secret.
    let secret = "integrator shared secret, 32+ bytes".to_owned();
    let token = "mvx1.eyJzdWIiOiJjcm1fNDIiLCJhZ3QiOiJhZ2VudF8xIiwiZXhwIjoxNzY3MjI5MjQ1fQ.\
                 UvOh6dzu07MB9nCROQuQ5imJk77GtAcXKYHCvIjrAI4";
    let keys = IdentityKeys::new(None, &[secret], 3600);
    let verified = keys
        .verify(token, &expected("agent_1", "conv_1", NOW))
        .unwrap();
    assert_eq!(verified.claims.sub, "crm_42");
    assert_eq!(verified.issuer, Issuer::Integrator);
}

#[test]
fn guest_ids_are_keyed_stable_and_distinct() {
    let keys = keys();
    let id = keys.guest_user_id("+14155550199");
    assert_eq!(id, keys.guest_user_id(" +14155550199 "));
    assert_eq!(id.len(), "guest_".len() + 16);
    assert_ne!(id, keys.guest_user_id("+14155550100"));
    assert_ne!(
        id,
        memvox_core::guest_user_id("+14155550199"),
        "not a plain hash"
    );
    let keyless = IdentityKeys::new(None, &[], 60);
    assert_eq!(
        keyless.guest_user_id("+14155550199"),
        memvox_core::guest_user_id("+14155550199")
    );
}
