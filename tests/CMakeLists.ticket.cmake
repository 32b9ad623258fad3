# Ticket suites (docs/tickets.md): the signed payload and money display (unit), QR images
# decoded with zbarimg (unit), and the ticket pool, ticket routes, check-ins, revocation and
# bxctl ticket-verify end to end against real processes (ports 26700-26799).
bx_add_suite(test_ticket SOURCES test_ticket.c)
bx_add_suite(test_qr SOURCES test_qr.c)
bx_add_suite(it_ticket SOURCES it_ticket.c INTEGRATION LIBS bxholdsfixture Threads::Threads
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 600)
