/* Unit tests for bench/src/rounds.c: how the cold starts of a runtime are
 * spread over the interleaved rounds. */
#include "rounds.h"
#include "unit.h"

static void test_cold_share(void)
{
    int sum = 0;
    for (int r = 0; r < 5; r++)
        sum += rounds_cold_share(20, 5, r);
    CHECK(sum == 20);
    CHECK(rounds_cold_share(20, 5, 0) == 4 && rounds_cold_share(20, 5, 4) == 4);
    /* 7 over 3 rounds: 3 2 2, the remainder first */
    CHECK(rounds_cold_share(7, 3, 0) == 3);
    CHECK(rounds_cold_share(7, 3, 1) == 2 && rounds_cold_share(7, 3, 2) == 2);
    /* fewer runs than rounds: each round still starts the container it loads */
    CHECK(rounds_cold_share(2, 5, 4) == 1);
    CHECK(rounds_cold_share(3, 3, 1) == 1);
}

int main(void)
{
    RUN(test_cold_share);
    return UNIT_DONE();
}
