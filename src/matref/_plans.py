"""What a check draws: which sizes each dimension letter takes, at which scale each input is drawn,
and which form each declared structure takes. This is the checker's contract ("holds" means the
identity agreed at every one of these draws); the Conventions page states it in words.

- **Sizes.** Each free dimension letter takes four sizes over the plans, among them 2, a size of at
  least 5, and both parities; the first four letters form a Latin square, so in every plan they
  differ from each other and every pair of letters is drawn in both orders (m < n and m > n).
  Letters fixed in the where clause (`n = 2`, or a number in the space) keep their size.
- **Scales.** Each plan is drawn twice: every input once at its unit scale (singular values in
  [1, 2]) and once at a small scale (singular values in [0.1, 0.3]), the two mixed across inputs in
  half of the plans, so that no term of a sum can hide behind a larger one at every draw.
- **Forms.** Structures alternate between their forms across draws (see `form`).
"""

from __future__ import annotations

from dataclasses import dataclass

# Sizes the first four free letters cycle through, one rotation each: a Latin square.
SIZE_CYCLE = (3, 4, 5, 2)
# Letters after the fourth: a size of their own (6, 7, ...) in the first plan, then 2, 3 and 5.
EXTRA_CYCLE = (2, 3, 5)
PLANS = 4
DRAWS_PER_PLAN = 2
UNIT, SMALL = (1.0, 2.0), (0.1, 0.3)  # ranges of singular values (or magnitudes) at each scale


def letter_sizes(position: int) -> tuple[int, ...]:
    """The sizes a free dimension letter takes over the plans, by its position among the letters."""
    if position < len(SIZE_CYCLE):
        k = position
        return SIZE_CYCLE[k:] + SIZE_CYCLE[:k]
    first = 2 + position  # 6, 7, ...: distinct from the first four letters in the first plan
    k = position % len(EXTRA_CYCLE)
    return (first,) + EXTRA_CYCLE[k:] + EXTRA_CYCLE[:k]


def size_plans(letters: list[str], fixed: dict[str, int],
               least: dict[str, int] | None = None) -> tuple[dict[str, int], ...]:
    """One size assignment per plan: free letters vary, `fixed` letters keep their size, and a
    letter that must be at least k (an entry M_{k1} is written) has its sizes shifted up by k - 2."""
    free = [name for name in letters if name not in fixed]
    columns = {name: letter_sizes(i) for i, name in enumerate(free)}
    for name, k in (least or {}).items():
        if name in columns and k > 2:
            columns[name] = tuple(size + k - 2 for size in columns[name])
    return tuple({name: fixed[name] if name in fixed else columns[name][p] for name in letters}
                 for p in range(PLANS))


@dataclass(frozen=True)
class Draw:
    """One draw of one plan: `scales[i]` is the scale of the i-th input, `form` picks structure forms."""

    plan: int
    index: int  # 0 .. DRAWS_PER_PLAN-1
    form: int  # a counter over all draws, so successive draws take different forms

    def scale(self, position: int) -> tuple[float, float]:
        """The range of singular values (or magnitudes) of the input at `position`."""
        small_first = (self.plan + self.index) % 2 == 1
        if self.plan >= 2:  # mixed plans: inputs alternate between the scales
            small_first = (position + self.plan + self.index) % 2 == 1
        return SMALL if small_first else UNIT

