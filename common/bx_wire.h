/* bx_wire: the boxoffice pipeline protocol (BXP/1) between clients (frontdoor, scheduler),
 * the broker and workers. Frame layouts are documented in contracts/wire.md; these are
 * the names both ends share. Every message starts with an empty delimiter frame, then the
 * protocol header, then the command. */
#ifndef BX_WIRE_H
#define BX_WIRE_H

/* Protocol headers. */
#define BX_WIRE_CLIENT "BXC1" /* client <-> broker */
#define BX_WIRE_WORKER "BXW1" /* worker <-> broker */

/* client -> broker:  SUBMIT service request_id route_key traceparent payload
 * broker -> client:  ACK request_id
 *                    NAK request_id retry_after_s reason
 *                    REPLY request_id status body                            */
#define BX_WIRE_SUBMIT "SUBMIT"
#define BX_WIRE_ACK "ACK"
#define BX_WIRE_NAK "NAK"

/* worker -> broker:  READY service credit
 *                    REPLY client_id request_id status body
 *                    HEARTBEAT
 *                    DISCONNECT
 * broker -> worker:  REQUEST client_id request_id traceparent payload
 *                    HEARTBEAT
 *                    DISCONNECT                                              */
#define BX_WIRE_READY "READY"
#define BX_WIRE_REQUEST "REQUEST"
#define BX_WIRE_REPLY "REPLY"
#define BX_WIRE_HEARTBEAT "HEARTBEAT"
#define BX_WIRE_DISCONNECT "DISCONNECT"

/* Terminal statuses carried by REPLY. */
#define BX_WIRE_SUCCEEDED "succeeded"
#define BX_WIRE_FAILED "failed"

/* Service names (one worker pool each). */
#define BX_SVC_ECHO "echo"
#define BX_SVC_SCHEDULER "scheduler"
#define BX_SVC_HOLD "hold"
#define BX_SVC_CHECKOUT "checkout"
#define BX_SVC_PAYMENT "payment"
#define BX_SVC_TICKET "ticket"
#define BX_SVC_NOTIFY "notify"
#define BX_SVC_WEBHOOK "webhook"
#define BX_SVC_INDEX "index"

#define BX_WIRE_SERVICE_MAX 31 /* longest service name */

#endif
