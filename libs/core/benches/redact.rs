//! Cost of redaction per call: every turn of a realistic 30-turn support call (2.4 KB of text,
//! with order numbers, dates, times, prices, a phone number, an email address, a card, two
//! street addresses and a date of birth read out) plus the platform's summary — what the
//! extraction worker redacts for each call before anything is extracted or stored — under the
//! default policy (cards and national ids masked) and with every kind masked. Also a 30-turn
//! call with nothing to mask but many numbers (order numbers, times, prices: every turn comes
//! back borrowed), and single turns by kind.
//!
//! `cargo bench -p memvox-core --bench redact`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memvox_core::redact::{FieldPolicy, Mode, RedactionPolicy};

/// A 30-turn support call as speech-to-text writes it.
const CALL: [&str; 30] = [
    "Hi, thanks for calling Northwind Pharmacy, this is Sam. How can I help you today?",
    "Hi Sam, it's Dana Whitfield. I'm calling about my refill, order 53819, I think it was placed last Tuesday.",
    "Thanks Dana. Let me pull that up. I see order 53819 for your lisinopril, ten milligrams, placed on March 4th.",
    "Yes, that's the one. It said it would be ready on the 7th but I haven't heard anything.",
    "I'm sorry about that. It looks like the prescription needed a new authorization from Dr. Patel's office.",
    "Oh, okay. Did they send it? I called them on Friday around 2:30 and they said they would.",
    "We received it this morning at 9:15, so the pharmacist is reviewing it now. It should be ready by 4 pm.",
    "Great. Can I pick it up at the Elm Street location instead of Main Street? I switched in December.",
    "Of course. I've moved it to Elm Street, 1420 Elm Street, suite 3. They're open until 8 tonight.",
    "Perfect. And how much will it be? Last time it was $12.50 with my insurance.",
    "It's $12.50 again, your plan hasn't changed. Would you like to pay now over the phone?",
    "Sure, let's do that. My card is 4111 1111 1111 1111, expiry 09 27.",
    "Thank you, that went through. Your confirmation number is 88217.",
    "Great. Also, can you update my phone number? It's now 415 555 0199.",
    "Done, I've updated it. Do you want text reminders at that number too?",
    "Yes please, texts are better for me. Mornings, before 10 if possible.",
    "Noted: text reminders before 10 am. Can I confirm your email for receipts?",
    "It's dana dot whitfield at gmail dot com.",
    "Thanks, receipts will go there. Is there anything else for this refill?",
    "Actually yes, my husband's order, 53822, is that ready too? It's under Tom Whitfield.",
    "I can see order 53822, his metformin. That one is ready now, he can pick it up any time.",
    "Can I pick it up for him? We live at the same address, 27 Birch Lane, 94103.",
    "Yes, just bring your ID and mention his date of birth when you come in.",
    "That's June 2nd, 1961, his date of birth. Should I say that at the counter?",
    "Exactly, that's all they'll need. Anything else I can help with?",
    "One more thing. Last month I was charged twice, $24.80 on the 12th and again on the 14th.",
    "I'm sorry, I see the duplicate charge on February 14th. I've requested a refund of $24.80; it takes 3 to 5 business days.",
    "Thank you so much, Sam. You've been really helpful.",
    "My pleasure, Dana. Your refill will be ready at Elm Street by 4 pm, and you'll get a text when it is.",
    "Perfect, thanks. Bye now.",
];

/// The platform's summary of the same call.
const SUMMARY: &str = "Dana Whitfield called about refill order 53819 (lisinopril), delayed by a missing \
authorization received this morning; pickup moved to Elm Street, ready by 4 pm, paid $12.50 by card. \
She updated her phone number and email, asked about her husband's order 53822 (ready) and a duplicate \
$24.80 charge from February 14th, for which a refund was requested.";

/// Nothing to mask: the same kind of call without a card, phone number or email address.
const CLEAN: [&str; 3] = [
    "I'm calling about my refill, order 53819, I think it was placed last Tuesday.",
    "We received it this morning at 9:15, so the pharmacist is reviewing it now. It should be ready by 4 pm.",
    "Last month I was charged twice, $24.80 on the 12th and again on the 14th.",
];

fn call_bytes() -> u64 {
    (CALL.iter().map(|t| t.len()).sum::<usize>() + SUMMARY.len()) as u64
}

/// How many of the call's texts `policy` changed.
fn redact_call(policy: &FieldPolicy, turns: &[&str], summary: &str) -> usize {
    turns
        .iter()
        .chain(std::iter::once(&summary))
        .filter(|text| matches!(policy.apply(black_box(text)), std::borrow::Cow::Owned(_)))
        .count()
}

fn per_call(c: &mut Criterion) {
    let every_kind = FieldPolicy::uniform(Mode::Mask);
    let default = RedactionPolicy::default().field(memvox_core::redact::Field::TranscriptTurns);
    assert_eq!(
        redact_call(&every_kind, &CALL, SUMMARY),
        6,
        "the card, phone, email, two address and date-of-birth turns"
    );
    assert_eq!(redact_call(&default, &CALL, SUMMARY), 1, "the card turn");
    let clean: Vec<&str> = CLEAN.iter().copied().cycle().take(CALL.len()).collect();
    assert_eq!(redact_call(&every_kind, &clean, SUMMARY), 0);

    let mut group = c.benchmark_group("redact");
    group.throughput(Throughput::Bytes(call_bytes()));
    group.bench_function("call_30_turns_every_kind_masked", |b| {
        b.iter(|| redact_call(&every_kind, &CALL, SUMMARY))
    });
    group.bench_function("call_30_turns_default_policy", |b| {
        b.iter(|| redact_call(&default, &CALL, SUMMARY))
    });
    group.bench_function("call_30_turns_without_pii", |b| {
        b.iter(|| redact_call(&every_kind, &clean, SUMMARY))
    });
    group.finish();

    let mut kinds = c.benchmark_group("redact_turn");
    for (name, turn) in [
        ("plain", CALL[0]),
        ("order_and_date", CALL[2]),
        ("card", CALL[11]),
        ("phone", CALL[13]),
        ("spoken_email", CALL[17]),
        ("street_address", CALL[21]),
        ("date_of_birth", CALL[23]),
        ("iban", "My IBAN is GB82 WEST 1234 5698 7654 32, thanks."),
        (
            "bank_account",
            "Sort code 12-34-56, account number 31926819.",
        ),
    ] {
        kinds.bench_function(name, |b| b.iter(|| every_kind.apply(black_box(turn))));
    }
    kinds.finish();
}

criterion_group!(benches, per_call);
criterion_main!(benches);
