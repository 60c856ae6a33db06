//! Table tests of [`redact`]: what each kind looks like when said, and near misses that must
//! stay as said (recall depends on order numbers, dates, times, prices and postcodes).

use std::borrow::Cow;

use super::redact;

fn assert_masked(cases: &[(&str, &str)]) {
    for (said, stored) in cases {
        assert_eq!(redact(said), *stored, "{said}");
    }
}

fn assert_kept(texts: &[&str]) {
    for text in texts {
        assert!(
            matches!(redact(text), Cow::Borrowed(t) if t == *text),
            "{text} became {}",
            redact(text)
        );
    }
}

#[test]
fn cards_and_social_security_numbers_are_masked_as_speech_to_text_writes_them() {
    assert_masked(&[
        (
            "Sure, my card is 4111 1111 1111 1111, thanks.",
            "Sure, my card is [card number], thanks.",
        ),
        ("It's 4111-1111-1111-1111.", "It's [card number]."),
        (
            "number 4111111111111111 please",
            "number [card number] please",
        ),
        (
            "four one one one one one one one one one one one one one one one",
            "[card number]",
        ),
        (
            "it's four one one one, one one one one, one one one one, one one one one.",
            "it's [card number].",
        ),
        (
            "card 4111 1111 1111 1111 expires 12 26",
            "card [card number] expires 12 26",
        ),
        (
            "Amex 3782 822463 10005 and that's it",
            "Amex [card number] and that's it",
        ),
        ("my social is 123-45-6789.", "my social is [SSN]."),
        ("SSN 123 45 6789 ok", "SSN [SSN] ok"),
    ]);
}

#[test]
fn phone_numbers_are_masked_written_grouped_international_or_spoken() {
    assert_masked(&[
        (
            "Call me back at 415 555 0199, or +1 415 555 0199.",
            "Call me back at [phone number], or [phone number].",
        ),
        ("my number is (415) 555-0199", "my number is [phone number]"),
        ("it's +1 (415) 555-0199 ok", "it's [phone number] ok"),
        ("try 415.555.0199 tomorrow", "try [phone number] tomorrow"),
        ("UK office +44 20 7946 0958.", "UK office [phone number]."),
        ("London 020 7946 0958 works", "London [phone number] works"),
        ("my mobile is 07700 900 123", "my mobile is [phone number]"),
        ("text +14155550199 anytime", "text [phone number] anytime"),
        ("call me on 4155550199", "call me on [phone number]"),
        (
            "it's four one five, five five five, oh one nine nine.",
            "it's [phone number].",
        ),
        (
            "four one five five five five zero one nine nine is my cell",
            "[phone number] is my cell",
        ),
    ]);
}

#[test]
fn ibans_are_masked_when_their_checksum_and_format_hold() {
    assert_masked(&[
        (
            "my IBAN is GB82 WEST 1234 5698 7654 32, thanks",
            "my IBAN is [IBAN], thanks",
        ),
        ("pay DE89370400440532013000 today", "pay [IBAN] today"),
        ("it's DE89 3704 0044 0532 0130 00.", "it's [IBAN]."),
        (
            "FR14 2004 1010 0505 0001 3M02 606 is the account",
            "[IBAN] is the account",
        ),
        ("nl91 abna 0417 1643 00", "[IBAN]"),
        (
            "G B eight two WEST one two three four five six nine eight seven six five four three two",
            "[IBAN]",
        ),
    ]);
}

#[test]
fn email_addresses_are_masked_written_or_spoken() {
    assert_masked(&[
        (
            "write to ada.lovelace+calls@example.co.uk.",
            "write to [email].",
        ),
        ("it's J_Smith99@mail-host.org ok", "it's [email] ok"),
        (
            "my email is ada dot lovelace at example dot com",
            "my email is [email]",
        ),
        (
            "try ada underscore l at gmail dot com tomorrow",
            "try [email] tomorrow",
        ),
        (
            "the address is bob at mail dot acme dot co dot uk",
            "the address is [email]",
        ),
    ]);
}

#[test]
fn several_kinds_in_one_turn_are_each_masked() {
    assert_masked(&[(
        "Email ada@example.com, call +1 415 555 0199, card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, order 53819.",
        "Email [email], call [phone number], card [card number], IBAN [IBAN], order 53819.",
    )]);
}

#[test]
fn order_numbers_dates_times_prices_and_postcodes_are_kept() {
    assert_kept(&[
        "My card ends in 1111 and it is a Visa.",
        "4111 1111 1111 1112 is not a valid card number.",
        "I take two pills at eight, one at noon.",
        "Switched to the Walgreens on 5th street in 2024.",
        "Order 1234567890 shipped on 2025-03-14.",
        "Patient is allergic to penicillin, born 1962.",
        "It was order 53819, the blue one.",
        "order number 5381 9920 1147 arrived",
        "invoice 2024 0314 5566 is paid",
        "my tracking is 9400 1000 0000 0000 0000",
        "it came on 14.03.2025 10.30",
        "the appointment is 03 14 2025 10 30",
        "slots at 10 30 11 45 12 15 tomorrow",
        "open 9:30 to 17:45 on 2025-03-14",
        "we moved in 1998 2004 2010",
        "it was $1,299.99 in the end",
        "The house cost $2,500,000,000 apparently",
        "paid 12,345,678,901 for the lot",
        "ZIP 94103-1234, or postcode SW1A 1AA, or 10115 Berlin",
        "I'm 42, my son is 12 and my daughter 9.",
        "I work at acme dot com these days",
        "meet me at the station at 5",
        "follow @ada on social media",
        "GB82 WEST",
        "flight BA 2490 lands at 10 45",
        "",
    ]);
}

#[test]
fn a_mistyped_iban_is_not_masked_as_one() {
    let said = "GB82 WEST 1234 5698 7654 33";
    assert!(!redact(said).contains("[IBAN]"), "{}", redact(said));
}
