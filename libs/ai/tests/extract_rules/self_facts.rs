//! What callers say about themselves beyond name, town and job: health (conditions, states,
//! allergies said as a noun, medication with its schedule), contact details (phone, birthday, address), what
//! no longer holds (a town or employer left), how they want to be called, their work and pets —
//! and the near misses that must stay unsaid (a workplace that is not an employer, an e-mail
//! address or phone number that was not spelled out).

use super::{Case, assert_cases};
use memvox_core::Sector::Semantic;

const CASES: &[Case] = &[
    Case {
        name: "a condition and a state, each its own memory",
        turns: &[(
            "user",
            "I have type 2 diabetes. I'm also lactose intolerant.",
        )],
        expect: &[
            ("Has type 2 diabetes", Semantic, &[0]),
            ("Is lactose intolerant", Semantic, &[0]),
        ],
        forbid: &[],
    },
    Case {
        name: "an allergy said as a noun, and a medication with its schedule",
        turns: &[(
            "user",
            "I have a latex allergy. And I take metformin every morning.",
        )],
        expect: &[
            ("Allergic to latex", Semantic, &[0]),
            ("Takes metformin every morning", Semantic, &[0]),
        ],
        forbid: &[],
    },
    Case {
        name: "a town and an employer the caller left",
        turns: &[
            ("user", "I no longer live in Denver."),
            ("user", "And I no longer work at Boeing."),
        ],
        expect: &[
            ("No longer lives in Denver", Semantic, &[0]),
            ("No longer works at Boeing", Semantic, &[1]),
        ],
        forbid: &["Lives in Denver", "Works at Boeing"],
    },
    Case {
        name: "an occupation, a place with an article, a home office that is no employer",
        turns: &[(
            "user",
            "I work as a nurse. I live in the suburbs. I'm working at home today.",
        )],
        expect: &[
            ("Works as a nurse", Semantic, &[0]),
            ("Lives in the suburbs", Semantic, &[0]),
        ],
        forbid: &["Works at"],
    },
    Case {
        name: "a last name and the name the caller goes by",
        turns: &[
            ("agent", "Can I get your name?"),
            ("user", "My last name is Whitfield. You can call me Danny"),
        ],
        expect: &[
            ("Last name is Whitfield", Semantic, &[1]),
            ("Goes by Danny", Semantic, &[1]),
        ],
        forbid: &[],
    },
    Case {
        name: "a switch to a named pharmacy",
        turns: &[("user", "I switched to the Elm Street pharmacy.")],
        expect: &[("Uses the Elm Street pharmacy", Semantic, &[0])],
        forbid: &[],
    },
    Case {
        name: "contact details: a phone number in digits, a birthday",
        turns: &[
            ("user", "My cell number is 303 555 0199."),
            ("user", "My birthday is March third."),
        ],
        expect: &[
            ("Phone number is 303 555 0199", Semantic, &[0]),
            ("Birthday is March third", Semantic, &[1]),
        ],
        forbid: &[],
    },
    Case {
        name: "an e-mail without an at and a number without digits are not kept",
        turns: &[
            ("user", "My email is the one you have on file."),
            ("user", "My phone number is unlisted."),
        ],
        expect: &[],
        forbid: &["Email", "Phone"],
    },
    Case {
        name: "a pet with its name",
        turns: &[("user", "I have a dog named Biscuit.")],
        expect: &[("Has a dog named Biscuit", Semantic, &[0])],
        forbid: &[],
    },
];

#[test]
fn table_of_facts_about_the_caller() {
    assert_cases(CASES);
}
