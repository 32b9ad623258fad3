/* bx_price: pure booking pricing (docs/booking.md "Money"): ticket lines, a promo code,
 * the service fee and tax rules in, subtotal, discount, fee, taxes and total out, all in
 * integer minor units of one currency. No I/O, no allocation: the caller owns the struct.
 *
 * Rounding, in this order:
 *   1. discount: percent promos give round_half_up(line subtotal x bp / 10000) per tier
 *      line; a fixed promo is clamped to the subtotal and shared over the lines in
 *      proportion to their subtotals (floor, then one minor unit each to the first lines
 *      that still have room until the shares add up);
 *   2. fee: round_half_up(discounted ticket total x service_fee_bp / 10000) once per
 *      booking, plus service_fee_minor per ticket;
 *   3. ticket taxes, per tier line and rule: the rule applies when the line's discounted
 *      unit price (floor of discounted line / quantity) lies in [band_min, band_max];
 *      exclusive: round_half_up(base x rate_ppm / 1e6) is added on top; inclusive: the
 *      price already holds it and round_half_up(base x rate_ppm / (1e6 + rate_ppm)) is
 *      extracted for display (each inclusive rule from the same gross base);
 *   4. fee taxes: the same per booking on the fee (bands compared with fee per ticket).
 * round_half_up rounds exact halves away from zero (all amounts are >= 0).
 * total = subtotal - discount + fee + tax, where tax counts only exclusive taxes; the
 * inclusive ones are in tax_included and itemized in taxes[] with inclusive set. */
#ifndef BX_PRICE_H
#define BX_PRICE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bx_err.h"

#define BX_PRICE_LINES_MAX 100             /* tier lines per booking */
#define BX_PRICE_RULES_MAX 16              /* tax rules that may apply at once */
#define BX_PRICE_UNIT_MAX  1000000000000LL /* largest unit price, minor units */
#define BX_PRICE_QTY_MAX   100             /* tickets per booking */

typedef enum { BX_PROMO_NONE = 0, BX_PROMO_PERCENT, BX_PROMO_FIXED } bx_promo_kind_t;

/* One tier line: inputs first, then what bx_price_compute fills in. */
typedef struct {
    char tier_id[37];           /* in: tier id */
    char name[401];             /* in: tier name (100 characters of UTF-8) */
    int64_t unit_price_minor;   /* in: price of one ticket, 0..BX_PRICE_UNIT_MAX */
    int quantity;               /* in: tickets, >= 1 */
    int64_t subtotal_minor;     /* out: unit x quantity */
    int64_t discount_minor;     /* out: this line's share of the discount */
    int64_t tax_minor;          /* out: exclusive taxes on this line */
    int64_t tax_included_minor; /* out: inclusive taxes held in this line's price */
} bx_price_line_t;

/* A tax rule that applies to the venue (country, region, currency, dates already
 * matched by the caller); bands are checked here. */
typedef struct {
    char name[257];         /* "CGST", "VAT" (64 characters of UTF-8) */
    int64_t rate_ppm;       /* parts per million, 0..1000000 */
    int inclusive;          /* 1: contained in the price; 0: added on top */
    int on_fee;             /* 1: applies to the service fee; 0: to tickets */
    int64_t band_min_minor; /* lowest unit price it applies to; -1: unbounded */
    int64_t band_max_minor; /* highest unit price it applies to; -1: unbounded */
} bx_price_rule_t;

/* One itemized tax: a rule that applied to at least one line (or the fee). */
typedef struct {
    int rule;             /* index of the rule in bx_price_t.rules */
    int64_t base_minor;   /* what it was computed on */
    int64_t amount_minor; /* tax amount */
} bx_price_tax_t;

typedef struct {
    /* inputs */
    int exponent; /* ISO 4217 minor-unit exponent, 0..4 */
    bx_price_line_t lines[BX_PRICE_LINES_MAX];
    int nlines;                 /* 1..BX_PRICE_LINES_MAX */
    bx_promo_kind_t promo_kind; /* BX_PROMO_NONE: no code */
    int64_t promo_value;        /* percent: basis points 1..10000; fixed: minor units > 0 */
    int promo_min_quantity;     /* the code needs at least this many tickets (>= 1) */
    int64_t service_fee_bp;     /* 0..5000 of the discounted ticket total */
    int64_t service_fee_minor;  /* per ticket, >= 0 */
    bx_price_rule_t rules[BX_PRICE_RULES_MAX];
    int nrules;
    /* outputs */
    int quantity;      /* tickets in all lines */
    int promo_applied; /* 1 when the promo gave a discount (min quantity met) */
    int64_t subtotal_minor, discount_minor, fee_minor, tax_minor, tax_included_minor;
    int64_t total_minor;
    bx_price_tax_t taxes[BX_PRICE_RULES_MAX];
    int ntaxes;
} bx_price_t;

/* Computes the outputs of p from its inputs. Returns BX_OK, or BX_EINVAL when an input
 * is out of its bounds (outputs then undefined). */
bx_err_t bx_price_compute(bx_price_t *p);

/* round_half_up(num / den) for num >= 0, den > 0. */
int64_t bx_price_div_half_up(int64_t num, int64_t den);

/* The lines as [{tier_id, name, unit_price_minor, quantity, subtotal_minor,
 * discount_minor, tax_minor, tax_included_minor}] and the taxes as [{name, rate_ppm,
 * inclusive, applies_to, base_minor, amount_minor}]: new references, NULL when out of
 * memory. */
json_t *bx_price_lines_json(const bx_price_t *p);
json_t *bx_price_taxes_json(const bx_price_t *p);

#endif
