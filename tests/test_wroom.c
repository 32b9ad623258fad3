/* test_wroom: the waiting room's shared vocabulary (common/bx_wroom): the lottery score
 * against a vector computed outside the code (Python hmac), FIFO scores above every
 * lottery score, and queue and admission tokens: a round trip keeps every claim, and a
 * token of the other kind, another key, an edit, an expiry or garbage is refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_suite.h"
#include "bx_util.h"
#include "bx_wroom.h"

static const char *s_seed = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static char s_dir[256];
static bx_jwt_ring_t *s_ring;

static void s_setup(void)
{
    char cmd[300];
    snprintf(s_dir, sizeof s_dir, "/tmp/test_wroom.%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "mkdir -p %s", s_dir);
    ck_assert_int_eq(system(cmd), 0);
    s_ring = bx_jwt_ring_generate(s_dir, "boxoffice");
    ck_assert_ptr_nonnull(s_ring);
}

static void s_teardown(void)
{
    char cmd[300];
    bx_jwt_ring_destroy(&s_ring);
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    ck_assert_int_eq(system(cmd), 0);
}

static bx_wroom_claims_t s_claims(void)
{
    bx_wroom_claims_t c = {0};
    bx_uuid_v7(c.user_id);
    bx_uuid_v7(c.event_id);
    bx_uuid_v7(c.entry_id);
    bx_uuid_v7(c.jti);
    c.prequeue = 1;
    c.seq = 42;
    c.iat = bx_now_ms() / 1000;
    c.exp = c.iat + 600;
    return c;
}

START_TEST(lottery_score_matches_an_independent_hmac)
{
    double score;
    /* python3: hmac.new(bytes(range(32)), b"01a2...0001", sha256).digest()[:6] */
    ck_assert_int_eq(bx_wroom_lottery(s_seed, "01a20a95-0000-7000-8000-000000000001", &score),
                     BX_OK);
    ck_assert(score == 25117755284793.0);
    ck_assert_int_eq(bx_wroom_lottery("00", "x", &score), BX_EINVAL);
    ck_assert_int_eq(bx_wroom_lottery(NULL, "x", &score), BX_EINVAL);
    char bad[65];
    memcpy(bad, s_seed, 65);
    bad[10] = 'g';
    ck_assert_int_eq(bx_wroom_lottery(bad, "x", &score), BX_EINVAL);
}
END_TEST

START_TEST(fifo_scores_follow_every_lottery_score)
{
    double pre, fifo1, fifo2;
    ck_assert_int_eq(bx_wroom_score(s_seed, "ffffffff-ffff-7fff-bfff-ffffffffffff", 1, 9, &pre),
                     BX_OK);
    ck_assert_int_eq(bx_wroom_score(s_seed, "a", 0, 1, &fifo1), BX_OK);
    ck_assert_int_eq(bx_wroom_score(s_seed, "b", 0, 2, &fifo2), BX_OK);
    ck_assert(pre < BX_WROOM_FIFO_BASE);
    ck_assert(fifo1 == BX_WROOM_FIFO_BASE + 1 && fifo2 > fifo1);
}
END_TEST

START_TEST(tokens_round_trip_and_refuse_the_other_kind)
{
    bx_wroom_claims_t c = s_claims(), out;
    char *q = bx_wroom_sign(s_ring, BX_WROOM_QUEUE, &c),
         *a = bx_wroom_sign(s_ring, BX_WROOM_ADMIT, &c);
    int64_t now = bx_now_ms() / 1000;
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(bx_wroom_verify(s_ring, q, BX_WROOM_QUEUE, now, &out, NULL), BX_OK);
    ck_assert_str_eq(out.user_id, c.user_id);
    ck_assert_str_eq(out.entry_id, c.entry_id);
    ck_assert_int_eq(out.prequeue, 1);
    ck_assert_int_eq(out.seq, 42);
    ck_assert_int_eq(bx_wroom_verify(s_ring, a, BX_WROOM_ADMIT, now, &out, NULL), BX_OK);
    ck_assert_str_eq(out.jti, c.jti);
    ck_assert_str_eq(out.event_id, c.event_id);
    ck_assert_int_eq(out.exp, c.exp);
    const char *why = NULL;
    ck_assert_int_eq(bx_wroom_verify(s_ring, q, BX_WROOM_ADMIT, now, &out, &why), BX_EUNAUTHORIZED);
    ck_assert_str_eq(why, "not a token of this kind");
    ck_assert_str_eq(out.user_id, ""); /* nothing is left behind on refusal */
    ck_assert_int_eq(bx_wroom_verify(s_ring, a, BX_WROOM_QUEUE, now, &out, NULL), BX_EUNAUTHORIZED);
    free(q);
    free(a);
}
END_TEST

START_TEST(forged_edited_expired_and_garbage_tokens_are_refused)
{
    char dir[300], cmd[400];
    bx_wroom_claims_t c = s_claims(), out;
    int64_t now = bx_now_ms() / 1000;
    snprintf(dir, sizeof dir, "%s/other", s_dir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    bx_jwt_ring_t *other = bx_jwt_ring_generate(dir, "boxoffice");
    char *forged = bx_wroom_sign(other, BX_WROOM_ADMIT, &c);
    ck_assert_int_eq(bx_wroom_verify(s_ring, forged, BX_WROOM_ADMIT, now, &out, NULL),
                     BX_EUNAUTHORIZED);
    char *a = bx_wroom_sign(s_ring, BX_WROOM_ADMIT, &c);
    char *dot = strchr(a, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(bx_wroom_verify(s_ring, a, BX_WROOM_ADMIT, now, &out, NULL), BX_EUNAUTHORIZED);
    c.iat = now - 1000;
    c.exp = now - 100;
    char *expired = bx_wroom_sign(s_ring, BX_WROOM_ADMIT, &c);
    ck_assert_int_eq(bx_wroom_verify(s_ring, expired, BX_WROOM_ADMIT, now, &out, NULL),
                     BX_EUNAUTHORIZED);
    const char *garbage[] = {"", "a.b.c", "....", NULL};
    for (int i = 0; garbage[i]; i++)
        ck_assert_int_eq(bx_wroom_verify(s_ring, garbage[i], BX_WROOM_ADMIT, now, &out, NULL),
                         BX_EUNAUTHORIZED);
    ck_assert_int_eq(bx_wroom_verify(s_ring, NULL, BX_WROOM_ADMIT, now, &out, NULL),
                     BX_EUNAUTHORIZED);
    free(forged);
    free(a);
    free(expired);
    bx_jwt_ring_destroy(&other);
}
END_TEST

START_TEST(keys_keep_one_event_in_one_cluster_slot)
{
    char k[BX_WROOM_KEY_MAX];
    ck_assert_str_eq(bx_wroom_key(k, "e1", "q"), "bx:wr:{e1}:q");
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("test_wroom");
    TCase *tc = tcase_create("wroom");
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, lottery_score_matches_an_independent_hmac);
    tcase_add_test(tc, fifo_scores_follow_every_lottery_score);
    tcase_add_test(tc, tokens_round_trip_and_refuse_the_other_kind);
    tcase_add_test(tc, forged_edited_expired_and_garbage_tokens_are_refused);
    tcase_add_test(tc, keys_keep_one_event_in_one_cluster_slot);
    suite_add_tcase(s, tc);
    return s;
}
