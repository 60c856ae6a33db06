//! A realistic population of callers and their memories, generated from a seed.
//!
//! Memory counts are heavy-tailed, as in a real deployment: a few callers have called for years
//! (`heavy_users` with `heavy_memories` each, 10,000 by default), 0.5 % have hundreds to
//! thousands, about 10 % have tens, most have a handful and 5 % none yet. Contents come from
//! templates per sector filled with names, products, numbers, places and times, so vectors are
//! spread as real sentences are; salience, creation and last-seen times are spread over two
//! years; each user's calls give episodes in proportion to the facts ([`crate::episodes`]).
//! Everything is a pure function of the seed and the user's index, so seeding can run in
//! chunks and tests can check the shape.

use memvox_core::{Sector, text::WEEKDAYS};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};

use crate::episodes::{GeneratedEpisode, episodes};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;
/// Oldest memory, in days before now.
const HISTORY_DAYS: i64 = 730;

/// How many users and how many memories the heaviest have.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Users in the population.
    pub users: usize,
    /// Users with `heavy_memories` memories each (the first indices).
    pub heavy_users: usize,
    /// Memories of each heavy user.
    pub heavy_memories: usize,
    /// Call episodes per memory (fact) of every user (see [`crate::episodes`]).
    pub episodes_per_fact: usize,
}

/// One generated user.
#[derive(Debug, Clone)]
pub struct GeneratedUser {
    /// `load_u0000042`.
    pub user_id: String,
    /// The caller number bound to the user.
    pub phone: String,
    /// Name, when the caller gave one.
    pub display_name: Option<String>,
    /// Stored profile summary, for some users.
    pub summary: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// Last call.
    pub last_interaction: Option<i64>,
    /// The user's memories (facts).
    pub memories: Vec<GeneratedMemory>,
    /// The episodes of the user's calls.
    pub episodes: Vec<GeneratedEpisode>,
}

/// One generated memory.
#[derive(Debug, Clone)]
pub struct GeneratedMemory {
    /// Sentence.
    pub content: String,
    /// Sector.
    pub sector: Sector,
    /// Salience in `[0.05, 1]`.
    pub salience: f64,
    /// Creation time.
    pub created_at: i64,
    /// Last recalled or confirmed, at or after creation.
    pub last_seen_at: i64,
}

/// The user id of index `index`.
pub fn user_id(index: usize) -> String {
    format!("load_u{index:07}")
}

/// The caller number of index `index`.
pub fn phone(index: usize) -> String {
    format!("+1555{index:07}")
}

/// How many memories user `index` has.
pub fn memory_count(shape: &Shape, index: usize, rng: &mut StdRng) -> usize {
    if index < shape.heavy_users {
        return shape.heavy_memories;
    }
    let roll: f64 = rng.random();
    if roll < 0.05 {
        0
    } else if roll < 0.90 {
        rng.random_range(1..=12)
    } else if roll < 0.995 {
        log_uniform(rng, 13, 150)
    } else {
        log_uniform(rng, 150, 1_500)
    }
}

fn log_uniform(rng: &mut StdRng, low: usize, high: usize) -> usize {
    let (low, high) = ((low as f64).ln(), (high as f64).ln());
    (rng.random_range(low..=high).exp().round() as usize).max(1)
}

/// Generates user `index` of a population seeded with `seed`, as of `now`.
pub fn user(shape: &Shape, seed: u64, index: usize, now: i64) -> GeneratedUser {
    let mut rng = StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let count = memory_count(shape, index, &mut rng);
    let created_at = now - rng.random_range(1..=HISTORY_DAYS) * DAY_MS;
    let name = *FIRST_NAMES.choose(&mut rng).unwrap_or(&"Alex");
    let display_name = rng.random_bool(0.6).then(|| name.to_owned());
    let summary = (count > 0 && rng.random_bool(0.4)).then(|| {
        format!(
            "{name} lives in {}, prefers {} and calls mostly about {}.",
            pick(&mut rng, CITIES),
            pick(&mut rng, CHANNELS),
            pick(&mut rng, PRODUCTS)
        )
    });
    let memories: Vec<GeneratedMemory> = (0..count)
        .map(|_| memory(&mut rng, created_at, now))
        .collect();
    let last_interaction = memories.iter().map(|m| m.last_seen_at).max();
    let id = user_id(index);
    let episodes = episodes(
        &mut rng,
        &id,
        count * shape.episodes_per_fact,
        created_at,
        now,
    );
    GeneratedUser {
        user_id: id,
        phone: phone(index),
        display_name,
        summary,
        created_at,
        last_interaction,
        memories,
        episodes,
    }
}

/// One generated fact, said between `since` and `now`.
pub fn memory(rng: &mut StdRng, since: i64, now: i64) -> GeneratedMemory {
    let sector = *Sector::ALL.choose(rng).unwrap_or(&Sector::Semantic);
    let templates = match sector {
        Sector::Semantic => SEMANTIC,
        Sector::Episodic => EPISODIC,
        Sector::Procedural => PROCEDURAL,
        Sector::Emotional => EMOTIONAL,
        Sector::Reflective => REFLECTIVE,
    };
    let template = pick(rng, templates);
    let content = fill(rng, template);
    let created_at = rng.random_range(since..now);
    let last_seen_at = rng.random_range(created_at..=now);
    GeneratedMemory {
        content,
        sector,
        salience: (rng.random::<f64>().powi(2) * 0.95 + 0.05).min(1.0),
        created_at,
        last_seen_at,
    }
}

/// A question an agent would ask about a caller, distinct per `sequence`.
pub fn question(rng: &mut StdRng, sequence: u64) -> String {
    let template = pick(rng, QUESTIONS);
    format!("{} (ref {sequence})", fill(rng, template))
}

/// A random entry of `list`.
pub fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or_default()
}

/// Replaces each `{slot}` of a template with a random value.
pub fn fill(rng: &mut StdRng, template: &str) -> String {
    let mut out = String::with_capacity(template.len() + 24);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let slot = &rest[start + 1..start + end];
        match slot {
            "name" => out.push_str(pick(rng, FIRST_NAMES)),
            "product" => out.push_str(pick(rng, PRODUCTS)),
            "city" => out.push_str(pick(rng, CITIES)),
            "day" => out.push_str(pick(rng, &WEEKDAYS)),
            "pet" => out.push_str(pick(rng, PETS)),
            "food" => out.push_str(pick(rng, FOODS)),
            "channel" => out.push_str(pick(rng, CHANNELS)),
            "number" => out.push_str(&rng.random_range(2..=480).to_string()),
            "hour" => out.push_str(&rng.random_range(7..=19).to_string()),
            "order" => out.push_str(&format!("{:06}", rng.random_range(0..1_000_000))),
            _ => out.push_str(slot),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

const FIRST_NAMES: &[&str] = &[
    "Maya", "Jonas", "Priya", "Tomás", "Aiko", "Fatima", "Liam", "Sofia", "Kwame", "Elena", "Noah",
    "Ines", "Ravi", "Chloe", "Mateo", "Hana", "Oscar", "Leila", "Ben", "Yusuf",
];
const PRODUCTS: &[&str] = &[
    "the premium plan",
    "the router",
    "the blood pressure monitor",
    "the espresso machine",
    "the family phone bundle",
    "the travel insurance",
    "the standing desk",
    "the hearing aid",
    "the pharmacy delivery",
    "the gym membership",
    "the car lease",
    "the solar panels",
];
const CITIES: &[&str] = &[
    "Lisbon",
    "Berlin",
    "Austin",
    "Toronto",
    "Osaka",
    "Nairobi",
    "Lyon",
    "Melbourne",
    "Leeds",
    "Porto",
    "Denver",
    "Madrid",
];
const PETS: &[&str] = &[
    "a beagle",
    "two cats",
    "a parrot",
    "a rescue greyhound",
    "a rabbit",
];
const FOODS: &[&str] = &[
    "peanuts",
    "gluten",
    "shellfish",
    "lactose",
    "sesame",
    "eggs",
];
const CHANNELS: &[&str] = &[
    "email",
    "text messages",
    "phone calls",
    "the app",
    "letters",
];

const SEMANTIC: &[&str] = &[
    "{name} is allergic to {food}.",
    "The caller's daughter {name} goes to school in {city}.",
    "The caller owns {product} and has {pet}.",
    "The caller prefers {channel} over any other contact.",
    "The caller's account number ends in {order}.",
    "The caller moved to {city} {number} days ago.",
];
const EPISODIC: &[&str] = &[
    "On {day} the caller reported that {product} stopped working after {number} hours.",
    "The caller asked to move the appointment to {day} at {hour}:00.",
    "Order {order} for {product} arrived {number} days late and damaged.",
    "The caller got a refund of {number} dollars for {product}.",
    "The caller booked a visit in {city} for {day}.",
];
const PROCEDURAL: &[&str] = &[
    "Always confirm the caller's address before shipping {product}.",
    "Call {name} back on {day} after {hour}:00, never earlier.",
    "Send the invoice for order {order} by {channel}.",
    "Spell out the caller's name, {name}, when booking.",
];
const EMOTIONAL: &[&str] = &[
    "The caller was frustrated about {product} and the {number}-minute wait.",
    "The caller was delighted that {name} handled order {order} so fast.",
    "The caller sounded anxious about the trip to {city} on {day}.",
    "The caller is worried about {pet} being alone on {day}.",
];
const REFLECTIVE: &[&str] = &[
    "The caller usually calls on {day} around {hour}:00.",
    "The caller tends to ask about {product} before renewals.",
    "The caller mentions {city} in most calls.",
    "The caller prefers short answers and {channel} follow-ups.",
];
const QUESTIONS: &[&str] = &[
    "what is the caller allergic to, {food}?",
    "when is the caller's appointment, {day}?",
    "what happened with order {order}",
    "does the caller have problems with {product}",
    "how does the caller like to be contacted, {channel}?",
    "where does the caller live, {city}?",
    "what did the caller say about {pet}",
    "is the caller upset about {product}",
];

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_645_000;

    #[test]
    fn counts_are_heavy_tailed_with_exact_heavy_users() {
        let shape = Shape {
            users: 20_000,
            heavy_users: 3,
            heavy_memories: 10_000,
            episodes_per_fact: 0,
        };
        let counts: Vec<usize> = (0..shape.users)
            .map(|index| {
                let mut rng = StdRng::seed_from_u64(index as u64);
                memory_count(&shape, index, &mut rng)
            })
            .collect();
        assert!(counts[..3].iter().all(|&c| c == 10_000));
        let rest = &counts[3..];
        let share = |f: &dyn Fn(usize) -> bool| {
            rest.iter().filter(|&&c| f(c)).count() as f64 / rest.len() as f64
        };
        let none = share(&|c| c == 0);
        let handful = share(&|c| (1..=12).contains(&c));
        let tens = share(&|c| (13..150).contains(&c));
        let hundreds = share(&|c| c >= 150);
        assert!((0.04..0.06).contains(&none), "{none}");
        assert!((0.83..0.87).contains(&handful), "{handful}");
        assert!((0.09..0.11).contains(&tens), "{tens}");
        assert!((0.002..0.009).contains(&hundreds), "{hundreds}");
        assert!(rest.iter().all(|&c| c <= 1_500));
        let mean = rest.iter().sum::<usize>() as f64 / rest.len() as f64;
        assert!((8.0..25.0).contains(&mean), "{mean}");
    }

    #[test]
    fn users_are_reproducible_and_memories_are_realistic() {
        let shape = Shape {
            users: 10,
            heavy_users: 1,
            heavy_memories: 500,
            episodes_per_fact: 3,
        };
        let a = user(&shape, 7, 0, NOW);
        let b = user(&shape, 7, 0, NOW);
        assert_eq!(a.user_id, "load_u0000000");
        assert_eq!(a.phone, "+15550000000");
        assert_eq!(a.memories.len(), 500);
        assert_eq!(
            a.memories.iter().map(|m| &m.content).collect::<Vec<_>>(),
            b.memories.iter().map(|m| &m.content).collect::<Vec<_>>()
        );
        for memory in &a.memories {
            assert!(!memory.content.contains('{'), "{}", memory.content);
            assert!((0.05..=1.0).contains(&memory.salience));
            assert!(a.created_at <= memory.created_at);
            assert!(memory.created_at <= memory.last_seen_at && memory.last_seen_at <= NOW);
        }
        let distinct: std::collections::HashSet<_> =
            a.memories.iter().map(|m| m.content.as_str()).collect();
        assert!(distinct.len() > 350, "{} distinct of 500", distinct.len());
        let sectors: std::collections::HashSet<_> = a.memories.iter().map(|m| m.sector).collect();
        assert_eq!(sectors.len(), 5);
        assert_eq!(
            a.last_interaction,
            a.memories.iter().map(|m| m.last_seen_at).max()
        );
        assert_eq!(a.episodes.len(), 1_500, "three episodes a fact");
        assert_eq!(a.episodes, b.episodes);
        assert!(a.episodes.iter().all(|e| !e.content.contains('{')));
    }

    #[test]
    fn questions_are_distinct_and_filled() {
        let mut rng = StdRng::seed_from_u64(1);
        let first = question(&mut rng, 1);
        let second = question(&mut rng, 2);
        assert_ne!(first, second);
        assert!(!first.contains('{'), "{first}");
    }
}
