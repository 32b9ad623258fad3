/* bx_price: the booking price computation (rounding rules in bx_price.h). */
#include "bx_price.h"

#include <string.h>

__extension__ typedef __int128 s_wide_t; /* products of amounts and rates never overflow */

static int64_t s_half_up(s_wide_t num, s_wide_t den)
{
    return (int64_t)((2 * num + den) / (2 * den));
}

int64_t bx_price_div_half_up(int64_t num, int64_t den)
{
    return s_half_up(num, den);
}

static int s_inputs_ok(const bx_price_t *p)
{
    if (p->exponent < 0 || p->exponent > 4 || p->nlines < 1 || p->nlines > BX_PRICE_LINES_MAX ||
        p->nrules < 0 || p->nrules > BX_PRICE_RULES_MAX || p->service_fee_bp < 0 ||
        p->service_fee_bp > 5000 || p->service_fee_minor < 0 ||
        p->service_fee_minor > BX_PRICE_UNIT_MAX)
        return 0;
    if (p->promo_kind == BX_PROMO_PERCENT && (p->promo_value < 1 || p->promo_value > 10000))
        return 0;
    if (p->promo_kind == BX_PROMO_FIXED && p->promo_value < 1)
        return 0;
    for (int i = 0; i < p->nlines; i++)
        if (p->lines[i].unit_price_minor < 0 || p->lines[i].unit_price_minor > BX_PRICE_UNIT_MAX ||
            p->lines[i].quantity < 1 || p->lines[i].quantity > BX_PRICE_QTY_MAX)
            return 0;
    for (int i = 0; i < p->nrules; i++)
        if (p->rules[i].rate_ppm < 0 || p->rules[i].rate_ppm > 1000000)
            return 0;
    return 1;
}

/* Step 1: each line's share of the discount. */
static void s_discount(bx_price_t *p)
{
    int64_t want = 0, given = 0;
    p->promo_applied = p->promo_kind != BX_PROMO_NONE && p->quantity >= p->promo_min_quantity;
    if (!p->promo_applied || p->subtotal_minor == 0)
        return;
    if (p->promo_kind == BX_PROMO_PERCENT) {
        for (int i = 0; i < p->nlines; i++)
            p->lines[i].discount_minor =
                s_half_up((s_wide_t)p->lines[i].subtotal_minor * p->promo_value, 10000);
        return;
    }
    want = p->promo_value < p->subtotal_minor ? p->promo_value : p->subtotal_minor;
    for (int i = 0; i < p->nlines; i++) {
        p->lines[i].discount_minor =
            (int64_t)((s_wide_t)want * p->lines[i].subtotal_minor / p->subtotal_minor);
        given += p->lines[i].discount_minor;
    }
    for (int i = 0; i < p->nlines && given < want; i++)
        if (p->lines[i].discount_minor < p->lines[i].subtotal_minor) {
            p->lines[i].discount_minor++;
            given++;
        }
}

static int s_in_band(const bx_price_rule_t *r, int64_t unit)
{
    return (r->band_min_minor < 0 || unit >= r->band_min_minor) &&
           (r->band_max_minor < 0 || unit <= r->band_max_minor);
}

/* The tax of rule r on base: exclusive on top, inclusive extracted. */
static int64_t s_tax(const bx_price_rule_t *r, int64_t base)
{
    if (r->inclusive)
        return s_half_up((s_wide_t)base * r->rate_ppm, 1000000 + (s_wide_t)r->rate_ppm);
    return s_half_up((s_wide_t)base * r->rate_ppm, 1000000);
}

/* Adds amount on base to the itemized tax of rule i (one item per rule, in rule order of
 * first use). Returns the amount. */
static int64_t s_item(bx_price_t *p, int i, int64_t base, int64_t amount)
{
    int k = 0;
    while (k < p->ntaxes && p->taxes[k].rule != i)
        k++;
    if (k == p->ntaxes) {
        p->taxes[k] = (bx_price_tax_t){.rule = i};
        p->ntaxes++;
    }
    p->taxes[k].base_minor += base;
    p->taxes[k].amount_minor += amount;
    if (p->rules[i].inclusive)
        p->tax_included_minor += amount;
    else
        p->tax_minor += amount;
    return amount;
}

/* Steps 3 and 4. */
static void s_taxes(bx_price_t *p, int64_t discounted)
{
    (void)discounted;
    for (int i = 0; i < p->nrules; i++) {
        const bx_price_rule_t *r = &p->rules[i];
        for (int l = 0; !r->on_fee && l < p->nlines; l++) {
            bx_price_line_t *ln = &p->lines[l];
            int64_t base = ln->subtotal_minor - ln->discount_minor;
            if (!s_in_band(r, base / ln->quantity))
                continue;
            int64_t t = s_item(p, i, base, s_tax(r, base));
            *(r->inclusive ? &ln->tax_included_minor : &ln->tax_minor) += t;
        }
        if (r->on_fee && p->fee_minor > 0 && s_in_band(r, p->fee_minor / p->quantity))
            s_item(p, i, p->fee_minor, s_tax(r, p->fee_minor));
    }
}

bx_err_t bx_price_compute(bx_price_t *p)
{
    int64_t discounted;
    if (!s_inputs_ok(p))
        return BX_EINVAL;
    p->quantity = 0;
    p->subtotal_minor = p->discount_minor = p->fee_minor = 0;
    p->tax_minor = p->tax_included_minor = p->total_minor = 0;
    p->ntaxes = 0;
    for (int i = 0; i < p->nlines; i++) {
        bx_price_line_t *ln = &p->lines[i];
        ln->subtotal_minor = ln->unit_price_minor * ln->quantity;
        ln->discount_minor = ln->tax_minor = ln->tax_included_minor = 0;
        p->subtotal_minor += ln->subtotal_minor;
        p->quantity += ln->quantity;
    }
    if (p->quantity > BX_PRICE_QTY_MAX)
        return BX_EINVAL;
    s_discount(p);
    for (int i = 0; i < p->nlines; i++)
        p->discount_minor += p->lines[i].discount_minor;
    discounted = p->subtotal_minor - p->discount_minor;
    p->fee_minor = s_half_up((s_wide_t)discounted * p->service_fee_bp, 10000) +
                   p->service_fee_minor * p->quantity;
    s_taxes(p, discounted);
    p->total_minor = discounted + p->fee_minor + p->tax_minor;
    return BX_OK;
}

json_t *bx_price_lines_json(const bx_price_t *p)
{
    json_t *a = json_array();
    for (int i = 0; a && i < p->nlines; i++) {
        const bx_price_line_t *l = &p->lines[i];
        json_t *o = json_pack("{s:s, s:s, s:I, s:i, s:I, s:I, s:I, s:I}", "tier_id", l->tier_id,
                              "name", l->name, "unit_price_minor", (json_int_t)l->unit_price_minor,
                              "quantity", l->quantity, "subtotal_minor",
                              (json_int_t)l->subtotal_minor, "discount_minor",
                              (json_int_t)l->discount_minor, "tax_minor", (json_int_t)l->tax_minor,
                              "tax_included_minor", (json_int_t)l->tax_included_minor);
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *bx_price_taxes_json(const bx_price_t *p)
{
    json_t *a = json_array();
    for (int i = 0; a && i < p->ntaxes; i++) {
        const bx_price_rule_t *r = &p->rules[p->taxes[i].rule];
        json_t *o = json_pack("{s:s, s:I, s:b, s:s, s:I, s:I}", "name", r->name, "rate_ppm",
                              (json_int_t)r->rate_ppm, "inclusive", r->inclusive, "applies_to",
                              r->on_fee ? "fee" : "ticket", "base_minor",
                              (json_int_t)p->taxes[i].base_minor, "amount_minor",
                              (json_int_t)p->taxes[i].amount_minor);
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
