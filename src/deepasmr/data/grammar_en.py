"""English sentences generated from our own small grammar and word lists (written for this project;
Apache-2.0 with the code). The words were picked to spread over English phones: voiced/voiceless
stops and fricatives, affricates, nasals, liquids, glides, all vowel qualities and diphthongs."""

from __future__ import annotations

import random

from deepasmr.data.grammar import distinct_sentences, words

NAMES = words(
    "Anna Bruce Chloe David Eleanor Felix Grace Hugo Isabel Jasper Kathy Liam Maya Nathan Olive Peter "
    "Quinn Rosa Samuel Thea Uma Victor Wendy Xavier Yusuf Zoe"
)
ADJECTIVES = words(
    "quiet bright heavy gentle yellow narrow ancient smooth frozen hollow golden crooked purple thirsty "
    "shiny rough cheerful lazy brave clumsy distant fragile huge jolly muddy noisy oval plain rusty "
    "shallow tiny vivid warm wooden zealous sleepy curious soft dusty"
)
NOUNS = words(
    "garden lantern village feather kitchen bridge mountain pillow window basket engine harbor jacket "
    "journey meadow orchard pencil puzzle rabbit saddle teacher thunder violin whistle bucket candle "
    "dolphin fountain giraffe hammer island ladder mirror napkin oyster parcel quilt ribbon shovel "
    "turtle umbrella vessel wagon zipper cushion blanket kettle tower"
)
PLURALS = words(
    "apples boxes children cookies daisies eggs fishermen geese horses insects jewels keys lemons "
    "mice needles oranges pebbles questions roses stars trains voices wolves yachts"
)
VERBS_PAST = words(
    "carried found painted washed measured borrowed dropped fixed guarded pushed watched chased "
    "opened covered folded judged loved thanked visited wrapped"
)
VERBS_BASE = words(
    "carry find paint wash measure borrow drop fix guard push watch chase open cover fold judge "
    "visit wrap bring choose"
)
VERBS_ING = words("singing whispering humming laughing splashing buzzing rustling ticking drifting shouting")
PLACES = words(
    "near the old church|behind the barn|under the wooden bridge|beside the frozen lake|across the "
    "narrow street|inside the yellow tent|on top of the hill|at the edge of the forest|by the harbor "
    "wall|in the back of the shop", "|"
)
TIMES = words(
    "this morning|last night|every Thursday|before lunch|after the storm|in early autumn|at half past "
    "nine|during the winter|on Sunday evening|a week ago", "|"
)
COUNTS = words("two three four five six seven eight nine ten eleven twelve twenty")
ADVERBS = words("slowly quietly carefully gladly rarely often warmly boldly gently quickly")

def _sentence(rng: random.Random) -> str:
    c = rng.choice
    templates = (
        lambda: f"The {c(ADJECTIVES)} {c(NOUNS)} {c(VERBS_PAST)} the {c(NOUNS)} {c(PLACES)}.",
        lambda: f"{c(NAMES)} {c(ADVERBS)} {c(VERBS_PAST)} a {c(ADJECTIVES)} {c(NOUNS)} {c(TIMES)}.",
        lambda: f"Please {c(VERBS_BASE)} the {c(ADJECTIVES)} {c(NOUNS)} {c(PLACES)}.",
        lambda: f"Did {c(NAMES)} {c(VERBS_BASE)} the {c(NOUNS)} {c(TIMES)}?",
        lambda: f"We could hear {c(PLURALS)} {c(VERBS_ING)} {c(PLACES)}.",
        lambda: f"{c(COUNTS).capitalize()} {c(ADJECTIVES)} {c(PLURALS)} were {c(VERBS_PAST)} {c(TIMES)}.",
        lambda: f"If you {c(VERBS_BASE)} the {c(NOUNS)}, {c(NAMES)} will {c(VERBS_BASE)} the {c(PLURALS)}.",
        lambda: f"{c(NAMES)} and {c(NAMES)} {c(VERBS_PAST)} {c(COUNTS)} {c(PLURALS)} {c(PLACES)}.",
    )
    return c(templates)()


def grammar_sentences(count: int, seed: int = 0) -> list[str]:
    """`count` distinct generated sentences, the same list for the same seed."""
    return distinct_sentences(_sentence, count, seed)
