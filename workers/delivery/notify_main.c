/* bx-worker-notify: the notification pool: fans user messages out into e-mail, SMS and
 * push deliveries and sends them (docs/delivery.md). */
#include "dlv.h"

int main(void)
{
    return dlv_main("notify");
}
