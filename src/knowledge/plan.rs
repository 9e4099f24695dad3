//! Which of a question's terms a search ranks with, so that its work stays
//! bounded however many chunks a company holds (docs/KNOWLEDGE.md, "Bounded
//! work per search"). The databases score every chunk that matches any
//! term; a word most chunks hold ("use", "code" in a programming manual)
//! would have them score nearly all of them, for a term BM25 weighs at
//! almost nothing. Given how many chunks hold each term, a search keeps the
//! rarest terms while the chunks they can match stay within a budget, and
//! when even the rarest term is held by more, ranks a window of its matches.

use crate::store::TermCounts;

/// Chunks a search may score: at a few microseconds each, well inside the
/// search's 20 ms at the 99th percentile.
pub const BUDGET: i64 = 2_000;

/// When every term is common: the rarest this many still rank the window.
const COMMON_KEPT: usize = 3;

/// The terms a search ranks with, rarest first, and the window (if the
/// chunks they match may exceed the budget).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub terms: Vec<String>,
    pub window: Option<i64>,
}

/// Chooses from `terms` (a question's distinct terms) given `counts` (how
/// many chunks hold each) and the `budget` of chunks scored:
/// - terms no chunk holds are left out (they match nothing);
/// - when the company has at most `budget` chunks, every other term is
///   kept: all its chunks fit;
/// - otherwise the rarest terms are kept while the chunks they hold, added
///   up, fit, and at least the rarest one;
/// - if even that one is held by more chunks than the budget, the rarest
///   few are kept and only a window of `budget` of their matches is ranked.
pub fn choose(terms: &[String], counts: &TermCounts, budget: i64) -> Plan {
    let mut held: Vec<(i64, usize)> = terms
        .iter()
        .enumerate()
        .map(|(i, _)| (counts.terms.get(i).copied().unwrap_or(0), i))
        .filter(|(n, _)| *n > 0)
        .collect();
    // Stable: equally common terms keep the question's order.
    held.sort_by_key(|(n, _)| *n);
    let pick = |kept: &[(i64, usize)]| kept.iter().map(|(_, i)| terms[*i].clone()).collect();
    if counts.chunks <= budget {
        return Plan {
            terms: pick(&held),
            window: None,
        };
    }
    let Some(&(rarest, _)) = held.first() else {
        return Plan {
            terms: Vec::new(),
            window: None,
        };
    };
    if rarest > budget {
        let kept = &held[..held.len().min(COMMON_KEPT)];
        return Plan {
            terms: pick(kept),
            window: Some(budget),
        };
    }
    let mut total = 0;
    let kept = held
        .iter()
        .take_while(|(n, _)| {
            total += n;
            total <= budget
        })
        .count();
    Plan {
        terms: pick(&held[..kept]),
        window: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn counts(chunks: i64, per_term: &[i64]) -> TermCounts {
        TermCounts {
            chunks,
            terms: per_term.to_vec(),
        }
    }

    #[test]
    fn a_small_base_ranks_with_every_term_it_holds() {
        let plan = choose(
            &terms(&["get", "refund", "zzz"]),
            &counts(900, &[800, 40, 0]),
            1000,
        );
        assert_eq!(plan.terms, terms(&["refund", "get"]));
        assert_eq!(plan.window, None);
    }

    #[test]
    fn a_large_base_keeps_the_rare_terms_within_the_budget() {
        let question = terms(&["get", "broken", "toaster", "refund"]);
        let plan = choose(&question, &counts(100_000, &[60_000, 900, 30, 500]), 1000);
        assert_eq!(plan.terms, terms(&["toaster", "refund"]));
        assert_eq!(plan.window, None);
    }

    #[test]
    fn only_common_terms_rank_a_window_of_the_rarest_few() {
        let question = terms(&["use", "code", "type", "value", "function"]);
        let plan = choose(
            &question,
            &counts(100_000, &[90_000, 50_000, 20_000, 30_000, 40_000]),
            1000,
        );
        assert_eq!(plan.terms, terms(&["type", "value", "function"]));
        assert_eq!(plan.window, Some(1000));
    }

    #[test]
    fn nothing_held_is_nothing_to_search() {
        let plan = choose(&terms(&["zzz"]), &counts(100_000, &[0]), 1000);
        assert!(plan.terms.is_empty());
        assert_eq!(plan.window, None);
    }
}
