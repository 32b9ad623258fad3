/* test_price: the booking price computation (common/bx_price) on the jurisdictions the
 * issue names, each number worked out by hand in the comment beside it: India's GST band
 * (12% up to INR 100 per ticket, 18% above, judged on the discounted price), UK VAT
 * included in the price, New York's stacked sales taxes with a half-up cent, JPY with no
 * minor unit, a fixed promo larger than the order, a 100% promo, and bad inputs. */
#include <check.h>
#include <string.h>

#include "bx_price.h"
#include "bx_suite.h"
#include "bx_util.h"

static void s_line(bx_price_t *p, const char *name, int64_t unit, int qty)
{
    bx_price_line_t *l = &p->lines[p->nlines++];
    bx_strlcpy(l->tier_id, "00000000-0000-7000-8000-000000000001", sizeof l->tier_id);
    bx_strlcpy(l->name, name, sizeof l->name);
    l->unit_price_minor = unit;
    l->quantity = qty;
}

static void s_rule(bx_price_t *p, const char *name, int64_t ppm, int incl, int on_fee, int64_t lo,
                   int64_t hi)
{
    bx_price_rule_t *r = &p->rules[p->nrules++];
    bx_strlcpy(r->name, name, sizeof r->name);
    r->rate_ppm = ppm;
    r->inclusive = incl;
    r->on_fee = on_fee;
    r->band_min_minor = lo;
    r->band_max_minor = hi;
}

/* India's rules as 0009 seeds them. */
static void s_india(bx_price_t *p)
{
    s_rule(p, "CGST", 60000, 0, 0, 0, 10000);
    s_rule(p, "SGST", 60000, 0, 0, 0, 10000);
    s_rule(p, "CGST", 90000, 0, 0, 10001, -1);
    s_rule(p, "SGST", 90000, 0, 0, 10001, -1);
    s_rule(p, "CGST", 90000, 0, 1, -1, -1);
    s_rule(p, "SGST", 90000, 0, 1, -1, -1);
}

static const bx_price_tax_t *s_tax(const bx_price_t *p, const char *name, int64_t ppm)
{
    for (int i = 0; i < p->ntaxes; i++)
        if (!strcmp(p->rules[p->taxes[i].rule].name, name) &&
            p->rules[p->taxes[i].rule].rate_ppm == ppm)
            return &p->taxes[i];
    return NULL;
}

START_TEST(india_gst_band_is_12_percent_up_to_inr_100_and_18_above_with_fee_gst)
{
    static bx_price_t p;
    memset(&p, 0, sizeof p);
    p.exponent = 2;
    s_line(&p, "Silver", 10000, 2); /* INR 100.00: at the boundary, 12% */
    s_line(&p, "Gold", 10001, 1);   /* INR 100.01: 18% */
    s_india(&p);
    p.service_fee_bp = 1000; /* 10% of 30001 = 3000.1 -> 3000 */
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    ck_assert_int_eq(p.subtotal_minor, 30001);
    ck_assert_int_eq(p.fee_minor, 3000);
    /* 6% of 20000 = 1200 (twice); 9% of 10001 = 900.09 -> 900 (twice); 9% of fee 270 x2 */
    ck_assert_int_eq(s_tax(&p, "CGST", 60000)->amount_minor, 1200);
    ck_assert_int_eq(s_tax(&p, "CGST", 60000)->base_minor, 20000);
    ck_assert_int_eq(s_tax(&p, "SGST", 90000)->base_minor, 10001);
    ck_assert_int_eq(s_tax(&p, "SGST", 90000)->amount_minor, 900);
    ck_assert_int_eq(p.ntaxes, 6); /* the fee's GST is its own item */
    ck_assert_int_eq(p.taxes[5].base_minor, 3000);
    ck_assert_int_eq(p.taxes[5].amount_minor, 270);
    ck_assert(p.rules[p.taxes[5].rule].on_fee);
    ck_assert_int_eq(p.tax_minor, 2 * 1200 + 2 * 900 + 2 * 270);
    ck_assert_int_eq(p.tax_included_minor, 0);
    ck_assert_int_eq(p.total_minor, 30001 + 3000 + 4740);
    ck_assert_int_eq(p.lines[1].tax_minor, 1800);
}
END_TEST

START_TEST(india_band_is_judged_on_the_discounted_price)
{
    static bx_price_t p;
    memset(&p, 0, sizeof p);
    p.exponent = 2;
    s_line(&p, "Gold", 11000, 1);
    s_india(&p);
    p.promo_kind = BX_PROMO_PERCENT;
    p.promo_value = 1000; /* 10%: 11000 -> 9900, now in the 12% band */
    p.promo_min_quantity = 1;
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    ck_assert_int_eq(p.discount_minor, 1100);
    ck_assert_int_eq(p.tax_minor, 2 * 594); /* 6% of 9900 = 594 */
    ck_assert_ptr_null(s_tax(&p, "CGST", 90000));
    ck_assert_int_eq(p.total_minor, 9900 + 1188);
}
END_TEST

START_TEST(uk_vat_is_included_and_extracted_half_up)
{
    static bx_price_t p;
    memset(&p, 0, sizeof p);
    p.exponent = 2;
    s_line(&p, "Stalls", 2500, 3); /* 7500 holds 7500 x 0.2 / 1.2 = 1250 VAT */
    s_line(&p, "Circle", 1999, 1); /* 1999 / 6 = 333.17 -> 333 */
    s_rule(&p, "VAT", 200000, 1, 0, -1, -1);
    s_rule(&p, "VAT", 200000, 1, 1, -1, -1);
    p.service_fee_minor = 150; /* per ticket: 600, holds 100 VAT */
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    ck_assert_int_eq(p.tax_minor, 0);
    ck_assert_int_eq(p.tax_included_minor, 1250 + 333 + 100);
    ck_assert_int_eq(p.taxes[0].amount_minor, 1583);
    ck_assert_int_eq(p.taxes[1].amount_minor, 100);
    ck_assert_int_eq(p.total_minor, 9499 + 600);
}
END_TEST

START_TEST(new_york_stacks_three_sales_taxes_each_rounded_half_up)
{
    static bx_price_t p;
    memset(&p, 0, sizeof p);
    p.exponent = 2;
    s_line(&p, "Orchestra", 5000, 2);                      /* 10000 */
    s_rule(&p, "NY State sales tax", 40000, 0, 0, -1, -1); /* 400 */
    s_rule(&p, "NYC sales tax", 45000, 0, 0, -1, -1);      /* 450 */
    s_rule(&p, "MCTD surcharge", 3750, 0, 0, -1, -1);      /* 37.5 -> 38 */
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    ck_assert_int_eq(p.ntaxes, 3);
    ck_assert_int_eq(p.taxes[2].amount_minor, 38);
    ck_assert_int_eq(p.tax_minor, 888);
    ck_assert_int_eq(p.total_minor, 10888);
}
END_TEST

START_TEST(jpy_has_no_minor_unit_and_rounds_per_line)
{
    static bx_price_t p;
    memset(&p, 0, sizeof p);
    p.exponent = 0;
    s_line(&p, "S", 3333, 3);                            /* 9999; 15% = 1499.85 -> 1500 */
    s_rule(&p, "Consumption tax", 100000, 1, 0, -1, -1); /* 8499 / 11 = 772.6 -> 773 */
    p.promo_kind = BX_PROMO_PERCENT;
    p.promo_value = 1500;
    p.promo_min_quantity = 3;
    p.service_fee_bp = 500; /* 5% of 8499 = 424.95 -> 425 */
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    ck_assert_int_eq(p.discount_minor, 1500);
    ck_assert_int_eq(p.fee_minor, 425);
    ck_assert_int_eq(p.tax_included_minor, 773);
    ck_assert_int_eq(p.total_minor, 8499 + 425);
}
END_TEST

START_TEST(fixed_promo_larger_than_the_order_clamps_to_the_subtotal)
{
    static bx_price_t p;
    memset(&p, 0, sizeof p);
    p.exponent = 2;
    s_line(&p, "A", 2000, 1);
    s_line(&p, "B", 1000, 1);
    p.promo_kind = BX_PROMO_FIXED;
    p.promo_value = 100000;
    p.promo_min_quantity = 1;
    p.service_fee_minor = 50;
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    ck_assert_int_eq(p.discount_minor, 3000);
    ck_assert_int_eq(p.lines[0].discount_minor, 2000);
    ck_assert_int_eq(p.total_minor, 100); /* only the per-ticket fee is left */
}
END_TEST

START_TEST(fixed_promo_is_shared_over_lines_in_proportion_and_adds_up)
{
    static bx_price_t p;
    memset(&p, 0, sizeof p);
    p.exponent = 2;
    s_line(&p, "A", 2000, 1);
    s_line(&p, "B", 1000, 1);
    p.promo_kind = BX_PROMO_FIXED;
    p.promo_value = 1000; /* 666.67 + 333.33: floors 666 + 333, one unit to the first */
    p.promo_min_quantity = 1;
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    ck_assert_int_eq(p.lines[0].discount_minor, 667);
    ck_assert_int_eq(p.lines[1].discount_minor, 333);
    ck_assert_int_eq(p.total_minor, 2000);
}
END_TEST

START_TEST(percent_100_makes_the_tickets_free_and_min_quantity_gates_the_promo)
{
    static bx_price_t p;
    memset(&p, 0, sizeof p);
    p.exponent = 2;
    s_line(&p, "A", 2599, 2);
    s_rule(&p, "NY State sales tax", 40000, 0, 0, -1, -1);
    p.promo_kind = BX_PROMO_PERCENT;
    p.promo_value = 10000;
    p.promo_min_quantity = 2;
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    ck_assert(p.promo_applied);
    ck_assert_int_eq(p.discount_minor, 5198);
    ck_assert_int_eq(p.tax_minor, 0);
    ck_assert_int_eq(p.total_minor, 0);
    p.promo_min_quantity = 3;
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    ck_assert(!p.promo_applied);
    ck_assert_int_eq(p.discount_minor, 0);
    ck_assert_int_eq(p.total_minor, 5198 + 208); /* 4% of 5198 = 207.92 -> 208 */
}
END_TEST

START_TEST(bad_inputs_are_refused)
{
    static bx_price_t p;
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(bx_price_compute(&p), BX_EINVAL); /* no line */
    s_line(&p, "A", -1, 1);
    ck_assert_int_eq(bx_price_compute(&p), BX_EINVAL);
    p.lines[0].unit_price_minor = 100;
    p.promo_kind = BX_PROMO_PERCENT;
    p.promo_value = 10001;
    ck_assert_int_eq(bx_price_compute(&p), BX_EINVAL);
    p.promo_kind = BX_PROMO_NONE;
    p.service_fee_bp = 5001;
    ck_assert_int_eq(bx_price_compute(&p), BX_EINVAL);
    p.service_fee_bp = 0;
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    ck_assert_int_eq(bx_price_div_half_up(5, 2), 3);
    ck_assert_int_eq(bx_price_div_half_up(4, 3), 1);
}
END_TEST

START_TEST(json_lists_lines_and_itemized_taxes)
{
    static bx_price_t p;
    memset(&p, 0, sizeof p);
    p.exponent = 2;
    s_line(&p, "Silver", 10000, 1);
    s_india(&p);
    ck_assert_int_eq(bx_price_compute(&p), BX_OK);
    json_t *l = bx_price_lines_json(&p), *t = bx_price_taxes_json(&p);
    ck_assert_int_eq(json_array_size(l), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(l, 0), "tax_minor")), 1200);
    ck_assert_int_eq(json_array_size(t), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(t, 1), "name")), "SGST");
    ck_assert(json_is_false(json_object_get(json_array_get(t, 1), "inclusive")));
    json_decref(l);
    json_decref(t);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("test_price");
    TCase *tc = tcase_create("price");
    tcase_add_test(tc, india_gst_band_is_12_percent_up_to_inr_100_and_18_above_with_fee_gst);
    tcase_add_test(tc, india_band_is_judged_on_the_discounted_price);
    tcase_add_test(tc, uk_vat_is_included_and_extracted_half_up);
    tcase_add_test(tc, new_york_stacks_three_sales_taxes_each_rounded_half_up);
    tcase_add_test(tc, jpy_has_no_minor_unit_and_rounds_per_line);
    tcase_add_test(tc, fixed_promo_larger_than_the_order_clamps_to_the_subtotal);
    tcase_add_test(tc, fixed_promo_is_shared_over_lines_in_proportion_and_adds_up);
    tcase_add_test(tc, percent_100_makes_the_tickets_free_and_min_quantity_gates_the_promo);
    tcase_add_test(tc, bad_inputs_are_refused);
    tcase_add_test(tc, json_lists_lines_and_itemized_taxes);
    suite_add_tcase(s, tc);
    return s;
}
