/* bx-worker-webhook: the webhook pool: fans partner events out to their endpoints, turns
 * finished requests into result callbacks, and sends both signed (docs/delivery.md). */
#include "dlv.h"

int main(void)
{
    return dlv_main("webhook");
}
