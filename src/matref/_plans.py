"""What a check draws: which sizes each dimension letter takes, at which scale each input is drawn,
and which form each declared structure takes. This is the checker's contract ("holds" means the
identity agreed at every one of these draws); the Conventions page states it in words.

- **Sizes.** Each free dimension letter takes five sizes over the plans, among them 2, a size of at
  least 5, and both parities; the first four letters form a Latin square, so in each of its four
  plans they differ from each other and every pair of letters is drawn in both orders (m < n and m > n). A
  fifth plan gives every free letter the same size, SHARED_SIZE: an identity can be false only where
  two sizes coincide (det(XᵀX) det(XXᵀ) = 0 holds for every m×n X with m ≠ n, not for a square
  one), and the Latin square alone never draws m = n.
  Letters fixed in the where clause (`n = 2`, or a number in the space) keep their size.
- **Scales.** Each plan is drawn four times: every input once at its unit scale (singular values in
  [1, 2]) and once at a small scale (singular values in [0.1, 0.3]), the two mixed across inputs in
  half of the plans, so that no term of a sum can hide behind a larger one at every draw; and three
  times with one input at a large scale (singular values in [4, 8]) and the others at the unit
  scale, the large one taking each input in turn over the fifteen such draws (each of up to five
  inputs is large at three draws at least, of up to seven at two). Without it nothing drawn was larger than 2, and identities true only
  inside that ball read "holds": |sin t| = sin |t| (true for |t| <= π), log e^z = z (|Im z| < π),
  det(2I + X) > 0. One input at a time: products of several large inputs (e^{(s+t)X} with s, t and X
  all large) leave the range where float64 keeps 8 digits of a difference of the sides.
- **Forms.** Structures alternate between their forms across draws (see `form`).
"""

from __future__ import annotations

from dataclasses import dataclass

# Sizes the first four free letters cycle through, one rotation each: a Latin square.
SIZE_CYCLE = (3, 4, 5, 2)
# Letters after the fourth: a size of their own (6, 7, ...) in the first plan, then 2, 3 and 5.
EXTRA_CYCLE = (2, 3, 5)
# The plan after the Latin square: every free letter this size, so that each pair of letters also
# coincides once (m = n), at a size no letter of the first four takes (an identity true at 2, 3, 4
# and 5 only is refuted there too).
SHARED_SIZE = 6
PLANS = 5
DRAWS_PER_PLAN = 5
UNIT, SMALL = (1.0, 2.0), (0.1, 0.3)  # ranges of singular values (or magnitudes) at each scale
# The last three draws of each plan: one input drawn past π (periods, branch cuts of log and logm) and past the small
# constants a formula writes (2I + X), yet with every inverse as well conditioned as at UNIT.
LARGE = (4.0, 8.0)


def letter_sizes(position: int) -> tuple[int, ...]:
    """The sizes a free dimension letter takes over the plans, by its position among the letters."""
    if position < len(SIZE_CYCLE):
        k = position
        return SIZE_CYCLE[k:] + SIZE_CYCLE[:k] + (SHARED_SIZE,)
    first = 2 + position  # 6, 7, ...: distinct from the first four letters in the first plan
    k = position % len(EXTRA_CYCLE)
    return (first,) + EXTRA_CYCLE[k:] + EXTRA_CYCLE[:k] + (SHARED_SIZE,)


def size_plans(letters: list[str], fixed: dict[str, int],
               least: dict[str, int] | None = None) -> tuple[dict[str, int], ...]:
    """One size assignment per plan: free letters vary, `fixed` letters keep their size, and a
    letter that must be at least k (an entry M_{k1} is written) has its sizes shifted up by k - 2."""
    free = [name for name in letters if name not in fixed]
    columns = {name: letter_sizes(i) for i, name in enumerate(free)}
    for name, k in (least or {}).items():
        if name in columns and k > 2:
            # the shared plan stays shared where it can: it is there so that letters coincide
            *cycle, shared = columns[name]
            columns[name] = tuple(size + k - 2 for size in cycle) + (max(shared, k),)
    return tuple({name: fixed[name] if name in fixed else columns[name][p] for name in letters}
                 for p in range(PLANS))


@dataclass(frozen=True)
class Draw:
    """One draw of one plan: `scales[i]` is the scale of the i-th input, `form` picks structure forms."""

    plan: int
    index: int  # 0 .. DRAWS_PER_PLAN-1: unit and small scales, then one input large
    form: int  # a counter over all draws, so successive draws take different forms

    def scale(self, position: int, inputs: int = 1) -> tuple[float, float]:
        """The range of singular values (or magnitudes) of the input at `position` of `inputs`."""
        if self.index >= 2:  # one input large, in turn over these draws; the others at the unit scale (see LARGE)
            return LARGE if position == (self.plan + PLANS * (self.index - 2)) % max(inputs, 1) else UNIT
        small_first = (self.plan + self.index) % 2 == 1
        if self.plan >= 2:  # mixed plans: inputs alternate between the scales
            small_first = (position + self.plan + self.index) % 2 == 1
        return SMALL if small_first else UNIT

