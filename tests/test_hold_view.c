/* test_hold_view: the hold worker's seat view without a database: lookups by id, the
 * orphan-seat rule (a single seat stranded between taken seats or at a row's end, only when
 * the hold creates it), and best-available choices (best row first, nearest the centre,
 * side by side when asked, never stranding a seat under the rule, only the asked tier). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "bx_hold_view.h"
#include "bx_suite.h"

#define T1 "00000000-0000-7000-8000-0000000000a1"
#define T2 "00000000-0000-7000-8000-0000000000a2"

/* rows rows of n seats ("A1".."An", "B1"...), tier T1 except the seats listed in t2 */
static bx_hold_view_t *s_view(int rows, int n, const char *t2)
{
    bx_hold_view_t *v = bx_hold_view_new();
    char id[40], label[16], row[4];
    ck_assert_ptr_nonnull(v);
    for (int r = 0; r < rows; r++)
        for (int s = 1; s <= n; s++) {
            snprintf(id, sizeof id, "00000000-0000-7000-8000-%012d", r * 1000 + s);
            snprintf(label, sizeof label, "%c%d", 'A' + r, s);
            snprintf(row, sizeof row, "%c", 'A' + r);
            char needle[20];
            snprintf(needle, sizeof needle, ",%s,", label);
            const char *tier = t2 && strstr(t2, needle) ? T2 : T1;
            ck_assert_int_eq(bx_hold_view_add(v, id, label, row, tier, "available"), 0);
        }
    ck_assert_int_eq(bx_hold_view_seal(v), 0);
    return v;
}

/* Index of label (linear: tests only). */
static int s_at(const bx_hold_view_t *v, const char *label)
{
    for (int i = 0; i < bx_hold_view_size(v); i++)
        if (!strcmp(bx_hold_view_label(v, i), label))
            return i;
    ck_abort_msg("no seat %s", label);
    return -1;
}

static void s_take(bx_hold_view_t *v, const char *label)
{
    bx_hold_view_set(v, s_at(v, label), BX_SEAT_HELD);
}

START_TEST(lookup_by_id_in_any_case)
{
    bx_hold_view_t *v = s_view(2, 5, NULL);
    int i = bx_hold_view_find(v, "00000000-0000-7000-8000-000000001003");
    ck_assert_int_ge(i, 0);
    ck_assert_str_eq(bx_hold_view_label(v, i), "B3");
    ck_assert_int_eq(bx_hold_view_find(v, "00000000-0000-7000-8000-00000000100A"), -1);
    ck_assert_int_eq(bx_hold_view_find(v, "not an id"), -1);
    ck_assert_int_eq(bx_hold_view_add(v, "x", "Z1", "Z", T1, "available"), 1); /* bad id */
    ck_assert_int_eq(bx_hold_view_state_of("sold"), BX_SEAT_SOLD);
    ck_assert_int_eq(bx_hold_view_state_of("gone"), -1);
    bx_hold_view_destroy(&v);
    bx_hold_view_destroy(&v); /* idempotent */
}
END_TEST

START_TEST(orphans_between_taken_seats_and_at_row_ends)
{
    bx_hold_view_t *v = s_view(1, 10, NULL);
    int idx[3], orphan = -1;
    idx[0] = s_at(v, "A2");
    ck_assert(bx_hold_view_strands(v, idx, 1, &orphan)); /* A1 alone at the row's end */
    ck_assert_str_eq(bx_hold_view_label(v, orphan), "A1");
    idx[1] = s_at(v, "A1");
    ck_assert(!bx_hold_view_strands(v, idx, 2, &orphan));
    s_take(v, "A1");
    s_take(v, "A2");
    idx[0] = s_at(v, "A4");
    ck_assert(bx_hold_view_strands(v, idx, 1, &orphan)); /* A3 between A2 and A4 */
    ck_assert_str_eq(bx_hold_view_label(v, orphan), "A3");
    idx[0] = s_at(v, "A5");
    ck_assert(!bx_hold_view_strands(v, idx, 1, &orphan)); /* A3, A4 stay together */
    /* a seat already alone is not this hold's doing */
    s_take(v, "A8");
    s_take(v, "A10");
    idx[0] = s_at(v, "A3");
    idx[1] = s_at(v, "A4");
    ck_assert(!bx_hold_view_strands(v, idx, 2, &orphan)); /* A9 was alone before */
    bx_hold_view_destroy(&v);
}
END_TEST

START_TEST(giving_seats_back_never_leaves_one_alone)
{
    bx_hold_view_t *v = s_view(1, 6, NULL);
    int idx[3], orphan = -1;
    /* someone else holds A1; the cart holds A2..A5; A6 is free */
    s_take(v, "A1");
    s_take(v, "A2");
    s_take(v, "A3");
    s_take(v, "A4");
    s_take(v, "A5");
    idx[0] = s_at(v, "A3");
    ck_assert(bx_hold_view_strands_free(v, idx, 1, &orphan)); /* A3 between A2 and A4 */
    ck_assert_str_eq(bx_hold_view_label(v, orphan), "A3");
    idx[0] = s_at(v, "A2");
    ck_assert(bx_hold_view_strands_free(v, idx, 1, &orphan)); /* A2 between A1 and A3 */
    idx[1] = s_at(v, "A3");
    ck_assert(!bx_hold_view_strands_free(v, idx, 2, &orphan)); /* A2, A3 side by side */
    idx[0] = s_at(v, "A5");
    ck_assert(!bx_hold_view_strands_free(v, idx, 1, &orphan)); /* A5 next to free A6 */
    bx_hold_view_t *one = s_view(1, 1, NULL);                  /* a row of one seat never strands */
    s_take(one, "A1");
    idx[0] = 0;
    ck_assert(!bx_hold_view_strands_free(one, idx, 1, &orphan));
    bx_hold_view_destroy(&one);
    bx_hold_view_destroy(&v);
}
END_TEST

START_TEST(best_row_first_centre_first_side_by_side)
{
    bx_hold_view_t *v = s_view(3, 10, ",A5,A6,");
    int out[10];
    ck_assert(bx_hold_view_best(v, T1, 2, 1, 0, out));
    /* row A's centre seats are T2: the nearest T1 pair is A3-A4 or A7-A8 (first wins) */
    ck_assert_str_eq(bx_hold_view_label(v, out[0]), "A3");
    ck_assert_str_eq(bx_hold_view_label(v, out[1]), "A4");
    ck_assert(bx_hold_view_best(v, T2, 2, 1, 0, out));
    ck_assert_str_eq(bx_hold_view_label(v, out[0]), "A5");
    ck_assert(!bx_hold_view_best(v, T2, 3, 1, 0, out)); /* only two T2 seats */
    /* 6 side by side does not fit row A (T2 in the middle): row B's centre */
    ck_assert(bx_hold_view_best(v, T1, 6, 1, 0, out));
    ck_assert_str_eq(bx_hold_view_label(v, out[0]), "B3");
    ck_assert_str_eq(bx_hold_view_label(v, out[5]), "B8");
    bx_hold_view_destroy(&v);
}
END_TEST

START_TEST(best_never_strands_under_the_rule)
{
    bx_hold_view_t *v = s_view(2, 5, NULL);
    int out[10];
    s_take(v, "A1");
    /* A2..A5 free: 3 of them without the rule take the centre A2..A4 (stranding A5)... */
    ck_assert(bx_hold_view_best(v, T1, 3, 1, 0, out));
    ck_assert_str_eq(bx_hold_view_label(v, out[0]), "A2");
    /* ...with it, A3..A5 would strand A2 and A2..A4 would strand A5: row B, and not its
     * centre B2..B4 (which strands B1 and B5) but B1..B3 */
    ck_assert(bx_hold_view_best(v, T1, 3, 1, 1, out));
    ck_assert_str_eq(bx_hold_view_label(v, out[0]), "B1");
    /* not together: row A's 4 free seats as one block, then B1-B2 (B2-B3 would strand B1) */
    ck_assert(bx_hold_view_best(v, T1, 6, 0, 1, out));
    ck_assert_str_eq(bx_hold_view_label(v, out[0]), "A2");
    ck_assert_str_eq(bx_hold_view_label(v, out[3]), "A5");
    ck_assert_str_eq(bx_hold_view_label(v, out[4]), "B1");
    ck_assert_str_eq(bx_hold_view_label(v, out[5]), "B2");
    ck_assert(!bx_hold_view_best(v, T1, 10, 0, 0, out)); /* only 9 free */
    ck_assert(!bx_hold_view_best(v, T2, 1, 0, 0, out));  /* no such tier */
    bx_hold_view_destroy(&v);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("test_hold_view");
    TCase *tc = tcase_create("view");
    tcase_add_test(tc, lookup_by_id_in_any_case);
    tcase_add_test(tc, orphans_between_taken_seats_and_at_row_ends);
    tcase_add_test(tc, giving_seats_back_never_leaves_one_alone);
    tcase_add_test(tc, best_row_first_centre_first_side_by_side);
    tcase_add_test(tc, best_never_strands_under_the_rule);
    suite_add_tcase(s, tc);
    return s;
}
