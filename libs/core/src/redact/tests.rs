//! Table tests of detection, every kind masked: what each kind looks like when said, and near
//! misses that must stay as said (recall depends on order numbers, dates, times, prices and
//! postcodes).

use std::borrow::Cow;

use super::{FieldPolicy, Mode};

/// `text` with every kind masked.
fn redact(text: &str) -> Cow<'_, str> {
    FieldPolicy::uniform(Mode::Mask).apply(text)
}

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

#[test]
fn bank_account_sort_and_routing_numbers_are_masked_after_an_account_word() {
    assert_masked(&[
        (
            "my account number is 12345678.",
            "my account number is [bank account].",
        ),
        (
            "sort code 12-34-56 account 31926819",
            "sort code [bank account] account [bank account]",
        ),
        (
            "routing number 021000021 and account number 000123456789",
            "routing number [bank account] and account number [bank account]",
        ),
        (
            "the account is one two three four five six seven eight",
            "the account is [bank account]",
        ),
        (
            "checking account 4417 1234 5678",
            "checking account [bank account]",
        ),
    ]);
}

#[test]
fn nine_digits_after_social_or_ssn_are_a_social_security_number() {
    assert_masked(&[
        (
            "my social is one two three four five six seven eight nine",
            "my social is [SSN]",
        ),
        ("SSN 123456789.", "SSN [SSN]."),
    ]);
}

#[test]
fn street_addresses_with_a_house_number_are_masked() {
    assert_masked(&[
        ("I live at 1420 Elm Street.", "I live at [address]."),
        (
            "send it to 27 Birch Lane, 94103 please",
            "send it to [address] please",
        ),
        (
            "it's 500 Oak Avenue, suite 3, Springfield, IL 62704.",
            "it's [address].",
        ),
        ("221B Baker St. is the flat", "[address] is the flat"),
        (
            "we're at twenty seven birch lane now",
            "we're at [address] now",
        ),
        ("one four two zero Elm Street", "[address]"),
        (
            "I moved to 88 West 42nd Street, apt 4B",
            "I moved to [address]",
        ),
        (
            "it's 12 Sunset Boulevard, Los Angeles, CA",
            "it's [address]",
        ),
        ("at 9 Rosewood Drive", "at [address]"),
    ]);
}

#[test]
fn dates_next_to_a_birth_word_are_masked() {
    assert_masked(&[
        ("I was born March 3rd, 1985.", "I was born [date of birth]."),
        ("date of birth 03/03/1985", "date of birth [date of birth]"),
        ("my DOB is 1985-03-03 ok", "my DOB is [date of birth] ok"),
        (
            "born on the third of March nineteen eighty five",
            "born on [date of birth]",
        ),
        (
            "my birthday is June twenty-second",
            "my birthday is [date of birth]",
        ),
        (
            "it's 3 March 1985, that's my date of birth",
            "it's [date of birth], that's my date of birth",
        ),
        ("birthdate 3-3-85", "birthdate [date of birth]"),
        ("he was born Sept 9 2001", "he was born [date of birth]"),
    ]);
}

#[test]
fn ordinary_dates_streets_and_account_talk_are_kept() {
    assert_kept(&[
        "The delivery came March 3rd, 1985 was the year we met.",
        "My appointment is on 03/14/2025 at 10:30.",
        "I was born in 1962 and moved here on June 2nd, 1990.",
        "My daughter's birthday party is on June 5th at the park.",
        "The Elm Street branch opens at 8.",
        "I walked 2 blocks down Main Street to get there.",
        "It's 20 minutes up the road from here.",
        "I have 2 dogs and a cat.",
        "My account ending in 1234 was charged $24.80 on the 12th.",
        "I opened the account on 03 14 2025.",
        "The account balance is 125000 after the transfer.",
        "Order 53819 is for 3 boxes.",
        "It takes 3 to 5 business days.",
        "She moved in 2019 and again in 2021.",
    ]);
}
