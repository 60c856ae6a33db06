//! Table tests of the rule extractor on realistic phone-call turns: what it remembers (text,
//! sector, source turns) and, just as much, what it must not (agent chatter, the caller's
//! questions, small talk, hypotheticals, other people's facts, past tense).

use memvox_ai::{CallTranscript, RuleExtractor};
use memvox_core::Sector::{self, Emotional, Episodic, Procedural, Semantic};
use memvox_core::{CallOutcome, MemoryCandidate, MemoryOp, Role, Turn};

mod self_facts;

/// 2026-01-01T00:00:00Z.
const CALL_START: i64 = 1_767_225_600_000;

/// A call from (speaker, words) pairs; speaker `tool` is an agent turn without words.
fn call(turns: &[(&str, &str)]) -> CallTranscript {
    let turns = turns
        .iter()
        .enumerate()
        .map(|(i, (who, words))| Turn {
            index: i as u32,
            role: if *who == "user" {
                Role::User
            } else {
                Role::Agent
            },
            message: (*who != "tool").then(|| (*words).to_owned()),
            time_in_call_secs: 5 * i as i64,
        })
        .collect();
    CallTranscript {
        user_id: "user_1".into(),
        conversation_id: "conv_test".into(),
        started_at: CALL_START,
        turns,
        ..CallTranscript::default()
    }
}

fn extract(call: &CallTranscript) -> Vec<MemoryCandidate> {
    let candidates = RuleExtractor::new().extract_now(call);
    for c in &candidates {
        assert!(
            !c.content.is_empty() && c.content.chars().count() < 100,
            "{c:?}"
        );
        assert!((0.0..=1.0).contains(&c.salience), "{c:?}");
    }
    candidates
}

type Expected<'a> = &'a [(&'a str, Sector, &'a [u32])];

struct Case<'a> {
    name: &'a str,
    turns: &'a [(&'a str, &'a str)],
    expect: Expected<'a>,
    /// Substrings no memory may contain.
    forbid: &'a [&'a str],
}

const CASES: &[Case] = &[
    Case {
        name: "identity in a run-on with fillers and a stutter",
        turns: &[
            ("agent", "Thanks for calling, who am I speaking with?"),
            (
                "user",
                "um hi yeah so my name is uh Dana Whitfield and I I live in Denver",
            ),
        ],
        expect: &[
            ("Name is Dana Whitfield", Semantic, &[1]),
            ("Lives in Denver", Semantic, &[1]),
        ],
        forbid: &["speaking"],
    },
    Case {
        name: "lower-case ASR output gets capitalised names",
        turns: &[("user", "this is maria speaking. i work for acme logistics")],
        expect: &[
            ("Name is Maria", Semantic, &[0]),
            ("Works at Acme Logistics", Semantic, &[0]),
        ],
        forbid: &[],
    },
    Case {
        name: "allergy list splits into one memory per allergen; a negation stays negative",
        turns: &[(
            "user",
            "I'm allergic to peanuts and shellfish. I'm not allergic to penicillin though.",
        )],
        expect: &[
            ("Allergic to peanuts", Semantic, &[0]),
            ("Allergic to shellfish", Semantic, &[0]),
            ("Not allergic to penicillin", Semantic, &[0]),
        ],
        forbid: &["Allergic to penicillin", "peanuts and"],
    },
    Case {
        name: "a false start and a filler inside the value",
        turns: &[("user", "I'm- I'm allergic to, uh, penicillin")],
        expect: &[("Allergic to penicillin", Semantic, &[0])],
        forbid: &["uh"],
    },
    Case {
        name: "facts about other people are theirs, not the caller's",
        turns: &[("user", "My wife is allergic to shellfish, not me.")],
        expect: &[("Wife is allergic to shellfish", Semantic, &[0])],
        forbid: &["not them"],
    },
    Case {
        name: "hypotheticals and plans are not facts",
        turns: &[
            ("user", "If I were to move to Austin, would my rate change?"),
            ("user", "I might move to Austin next year."),
            ("user", "I'm thinking about moving to Austin."),
            ("user", "Maybe I'm allergic to cats, I don't know."),
        ],
        expect: &[],
        forbid: &["Austin", "cats"],
    },
    Case {
        name: "the caller's questions are not statements",
        turns: &[
            ("user", "Do you know if I'm allergic to anything?"),
            ("user", "what's my balance"),
            ("user", "Did I tell you I work at Acme?"),
        ],
        expect: &[],
        forbid: &["Acme", "Allergic"],
    },
    Case {
        name: "a polite request states a standing contact preference",
        turns: &[
            ("agent", "Should I call you when it's ready?"),
            ("user", "Can you text me instead? Email never reaches me."),
        ],
        expect: &[("Prefers text messages", Procedural, &[1])],
        forbid: &["email", "Email"],
    },
    Case {
        name: "a one-off request is not a preference",
        turns: &[("user", "Email me the invoice please.")],
        expect: &[],
        forbid: &["Prefers"],
    },
    Case {
        name: "call windows keep their direction and time",
        turns: &[(
            "user",
            "Please don't call me before 10am. And don't call after 6 pm either.",
        )],
        expect: &[
            ("Do not call before 10 am", Procedural, &[0]),
            ("Do not call after 6 pm", Procedural, &[0]),
        ],
        forbid: &[],
    },
    Case {
        name: "refusing a channel and a terse imperative",
        turns: &[("user", "Don't call me. Just text me.")],
        expect: &[
            ("Does not want phone calls", Procedural, &[0]),
            ("Prefers text messages", Procedural, &[0]),
        ],
        forbid: &[],
    },
    Case {
        name: "time-of-day preference about appointments",
        turns: &[(
            "user",
            "I prefer morning appointments, afternoons are hard with work.",
        )],
        expect: &[("Prefers morning appointments", Procedural, &[0])],
        forbid: &["afternoon"],
    },
    Case {
        name: "a feeling with its object, and small talk that is not one",
        turns: &[
            (
                "user",
                "Honestly I'm really frustrated with the billing errors.",
            ),
            ("agent", "I'm sorry to hear that. Let me look."),
            ("user", "Okay. I'm happy to hear that."),
        ],
        expect: &[("Frustrated with the billing errors", Emotional, &[0])],
        forbid: &["happy", "sorry"],
    },
    Case {
        name: "a positive feeling with an object",
        turns: &[("user", "I'm really happy with the new plan.")],
        expect: &[("Happy with the new plan", Emotional, &[0])],
        forbid: &[],
    },
    Case {
        name: "a feeling without an object is dated to the call",
        turns: &[("user", "This is so frustrating.")],
        expect: &[("Felt frustrated on the 2026-01-01 call", Emotional, &[0])],
        forbid: &[],
    },
    Case {
        name: "an agent's confirmation without an object is not an action",
        turns: &[
            ("agent", "Right, I've noted that down."),
            ("agent", "I've updated it for you."),
        ],
        expect: &[],
        forbid: &["noted", "updated"],
    },
    Case {
        name: "only the agent's completed actions count",
        turns: &[
            ("user", "Can I get in with Dr. Patel this week?"),
            (
                "agent",
                "I've booked you for Tuesday at 3 pm with Dr. Patel.",
            ),
            (
                "agent",
                "I can also send you a reminder. Would you like that?",
            ),
            ("agent", "I'll email you the pricing sheet."),
            ("tool", ""),
            (
                "agent",
                "You mentioned you live in Denver, right? Our office is open 9 to 5.",
            ),
        ],
        expect: &[(
            "Booked for Tuesday at 3 pm with Dr Patel (2026-01-01)",
            Episodic,
            &[1],
        )],
        forbid: &["reminder", "pricing", "Denver", "Lives"],
    },
    Case {
        name: "a move and a new job in one breath",
        turns: &[(
            "user",
            "We just moved to Austin last month and I started a new job at Dell.",
        )],
        expect: &[
            ("Moved to Austin", Semantic, &[0]),
            ("Works at Dell", Semantic, &[0]),
        ],
        forbid: &["last month"],
    },
    Case {
        name: "tools used, one memory each",
        turns: &[("user", "We use Salesforce and HubSpot for the CRM.")],
        expect: &[
            ("Uses Salesforce", Semantic, &[0]),
            ("Uses HubSpot", Semantic, &[0]),
        ],
        forbid: &["CRM"],
    },
    Case {
        name: "family facts; a pronoun sentence is not guessed at",
        turns: &[(
            "user",
            "My daughter's name is Maya. She's starting college in the fall. I have two kids.",
        )],
        expect: &[
            ("Daughter's name is Maya", Semantic, &[0]),
            ("Has two kids", Semantic, &[0]),
        ],
        forbid: &["college"],
    },
    Case {
        name: "a standing instruction in third person",
        turns: &[("user", "Always send the invoices to my work email.")],
        expect: &[(
            "Always send the invoices to their work email",
            Procedural,
            &[0],
        )],
        forbid: &["my "],
    },
    Case {
        name: "language preference with a trailing condition",
        turns: &[("user", "I prefer Spanish if that's okay")],
        expect: &[("Prefers to speak Spanish", Procedural, &[0])],
        forbid: &[],
    },
    Case {
        name: "pharmacy switch names the pharmacy, not the street",
        turns: &[(
            "user",
            "I switched my prescriptions to the Walgreens on Main Street.",
        )],
        expect: &[(
            "Moved prescriptions to the Walgreens pharmacy",
            Semantic,
            &[0],
        )],
        forbid: &["Main Street"],
    },
    Case {
        name: "a spoken email address",
        turns: &[("user", "my email is dana at example dot com")],
        expect: &[("Email is dana@example.com", Semantic, &[0])],
        forbid: &[],
    },
    Case {
        name: "a self-correction keeps the corrected value",
        turns: &[("user", "I live in Denver, I mean Boulder.")],
        expect: &[("Lives in Boulder", Semantic, &[0])],
        forbid: &["Denver"],
    },
    Case {
        name: "a later value in the same call wins over an earlier one",
        turns: &[
            ("user", "I live in Denver."),
            ("agent", "Got it."),
            ("user", "Actually no, I moved to Austin in March."),
        ],
        expect: &[("Moved to Austin", Semantic, &[2])],
        forbid: &["Denver"],
    },
    Case {
        name: "two appointments stay two memories",
        turns: &[(
            "user",
            "My appointment is Tuesday morning. I also have an afternoon appointment on Friday with the dentist.",
        )],
        expect: &[
            ("Appointment is Tuesday morning", Episodic, &[0]),
            (
                "Has an afternoon appointment on Friday with the dentist",
                Episodic,
                &[0],
            ),
        ],
        forbid: &[],
    },
    Case {
        name: "past tense is not the present",
        turns: &[(
            "user",
            "I lived in Chicago for ten years. I used to work at Boeing.",
        )],
        expect: &[],
        forbid: &["Chicago", "Boeing"],
    },
    Case {
        name: "why the caller called, and a repeat merges its turns",
        turns: &[
            ("user", "I'm calling about my refill."),
            ("agent", "Sure, which pharmacy?"),
            ("user", "Oh and I'm allergic to penicillin."),
            ("user", "Like I said, I'm allergic to penicillin."),
        ],
        expect: &[
            ("Called about their refill on 2026-01-01", Episodic, &[0]),
            ("Allergic to penicillin", Semantic, &[2, 3]),
        ],
        forbid: &["which pharmacy"],
    },
];

/// Runs `cases` and returns one line per mismatch: the memories wanted against those extracted,
/// and any memory containing a forbidden substring. No case starts with memories, so every
/// candidate must be an add.
fn failures(cases: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let got = extract(&call(case.turns));
        let got_triples: Vec<(String, Sector, Vec<u32>)> = got
            .iter()
            .map(|c| (c.content.clone(), c.sector, c.turn_indexes.clone()))
            .collect();
        let want: Vec<(String, Sector, Vec<u32>)> = case
            .expect
            .iter()
            .map(|(text, sector, turns)| ((*text).to_owned(), *sector, turns.to_vec()))
            .collect();
        if got_triples != want {
            failures.push(format!(
                "{}:\n  want {want:?}\n  got  {got_triples:?}",
                case.name
            ));
        }
        for bad in case.forbid {
            if let Some(c) = got.iter().find(|c| c.content.contains(bad)) {
                failures.push(format!(
                    "{}: `{}` contains forbidden `{bad}`",
                    case.name, c.content
                ));
            }
        }
        assert!(
            got.iter().all(|c| c.op == MemoryOp::Add),
            "{}: no existing memories, all add",
            case.name
        );
    }
    failures
}

/// Asserts that every case of `cases` passes, listing all failures at once.
fn assert_cases(cases: &[Case]) {
    let failures = failures(cases);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn table_of_realistic_turns() {
    assert!(CASES.len() >= 20);
    assert_cases(CASES);
}

#[test]
fn the_fixture_call() {
    let raw = include_str!("../../../../fixtures/elevenlabs/post_call_transcription.json");
    let event: serde_json::Value = serde_json::from_str(raw).expect("fixture is JSON");
    let data = &event["data"];
    let turns: Vec<Turn> = data["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .enumerate()
        .map(|(i, t)| Turn {
            index: i as u32,
            role: if t["role"] == "user" {
                Role::User
            } else {
                Role::Agent
            },
            message: t["message"].as_str().map(str::to_owned),
            time_in_call_secs: t["time_in_call_secs"].as_i64().unwrap_or(0),
        })
        .collect();
    let transcript = CallTranscript {
        user_id: data["user_id"].as_str().expect("user id").to_owned(),
        conversation_id: data["conversation_id"]
            .as_str()
            .expect("conversation id")
            .to_owned(),
        started_at: data["metadata"]["start_time_unix_secs"]
            .as_i64()
            .expect("start")
            * 1000,
        turns,
        summary: data["analysis"]["transcript_summary"]
            .as_str()
            .map(str::to_owned),
        outcome: CallOutcome::from_wire(data["analysis"]["call_successful"].as_str().unwrap_or("")),
        existing: vec![memvox_ai::ExistingMemory {
            id: 7,
            content: "Moved prescriptions to the Elm Street pharmacy.".into(),
            sector: Semantic,
        }],
        ..CallTranscript::default()
    };
    let got = extract(&transcript);
    let triples: Vec<(&str, Sector, &[u32])> = got
        .iter()
        .map(|c| (c.content.as_str(), c.sector, c.turn_indexes.as_slice()))
        .collect();
    assert_eq!(
        triples,
        vec![
            ("Prefers mornings for callbacks", Procedural, &[5][..]),
            (
                "Call on 2026-01-01: Dana asked whether she had told the agent about her new pharmacy",
                Episodic,
                &[1, 5, 7][..]
            ),
        ]
    );
    // The caller's question (turn 1) and the agent's restatement (turn 4) add no pharmacy fact,
    // and nothing contradicts the stored pharmacy.
    assert!(got.iter().all(|c| c.op == MemoryOp::Add));
    assert!(
        !got.iter()
            .any(|c| c.turn_indexes == [4] || c.turn_indexes == [2] || c.turn_indexes == [3])
    );
}

#[test]
fn analysis_memories_point_at_every_caller_turn() {
    let mut transcript = call(&[
        ("agent", "Hello, how can I help?"),
        ("user", "I need to dispute a charge."),
        ("tool", ""),
        ("user", "It's from March."),
    ]);
    transcript.summary =
        Some("The caller disputed a March charge. The agent could not find it.".into());
    transcript.outcome = CallOutcome::Failure;
    transcript.action_items = vec!["Send the dispute form".into(), "  ".into()];
    let got = extract(&transcript);
    let analysed: Vec<(&str, &[u32])> = got
        .iter()
        .filter(|c| c.sector == Episodic && !c.content.starts_with("Wanted"))
        .map(|c| (c.content.as_str(), c.turn_indexes.as_slice()))
        .collect();
    assert_eq!(
        analysed,
        vec![
            (
                "Unresolved call on 2026-01-01: The caller disputed a March charge",
                &[1, 3][..]
            ),
            ("Follow-up: Send the dispute form", &[1, 3][..]),
        ]
    );
}

#[test]
fn a_call_without_caller_words_yields_no_analysis_memories() {
    let mut transcript = call(&[("agent", "Hello? Is anyone there?")]);
    transcript.summary = Some("Nobody answered.".into());
    assert!(extract(&transcript).is_empty());
}

#[test]
fn reflective_patterns_need_three_calls_and_a_clear_pattern() {
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    // Calls at 09:10, 09:40, 10:20 and now 09:05 local time (UTC-5) on different weekdays.
    let start = CALL_START + 14 * HOUR + 5 * 60_000;
    let mut transcript = call(&[("user", "Hi.")]);
    transcript.started_at = start;
    transcript.utc_offset_minutes = Some(-300);
    transcript.previous_call_times = vec![
        start - DAY + 5 * 60_000,
        start - 3 * DAY + 35 * 60_000,
        start - 5 * DAY + 75 * 60_000,
    ];
    let got = extract(&transcript);
    let reflective: Vec<(&str, &[u32])> = got
        .iter()
        .filter(|c| c.sector == Sector::Reflective)
        .map(|c| (c.content.as_str(), c.turn_indexes.as_slice()))
        .collect();
    assert_eq!(
        reflective,
        vec![("Usually calls in the morning (around 9:00–11:00)", &[][..])]
    );

    // Without the caller's time zone the pattern is stated in UTC hours.
    transcript.utc_offset_minutes = None;
    let got = extract(&transcript);
    assert!(
        got.iter()
            .any(|c| c.content == "Usually calls around 14:00–16:00 UTC")
    );

    // Two calls are not a pattern; neither are calls spread over the day.
    transcript.previous_call_times.truncate(1);
    assert!(
        !extract(&transcript)
            .iter()
            .any(|c| c.sector == Sector::Reflective)
    );
    transcript.previous_call_times = vec![
        start - 6 * HOUR - DAY,
        start + 5 * HOUR - 2 * DAY,
        start - 3 * DAY,
    ];
    assert!(
        !extract(&transcript)
            .iter()
            .any(|c| c.content.contains("around"))
    );
}

#[test]
fn reflective_weekday_pattern() {
    const WEEK: i64 = 7 * 24 * 3_600_000;
    // Thursdays at different hours.
    let mut transcript = call(&[("user", "Hi.")]);
    transcript.previous_call_times = vec![
        CALL_START - WEEK + 3_600_000 * 3,
        CALL_START - 2 * WEEK + 3_600_000 * 9,
        CALL_START - 3 * WEEK + 3_600_000 * 15,
    ];
    let got = extract(&transcript);
    let reflective: Vec<&str> = got
        .iter()
        .filter(|c| c.sector == Sector::Reflective)
        .map(|c| c.content.as_str())
        .collect();
    assert_eq!(reflective, vec!["Usually calls on Thursdays"]);
}
