/* The Pyralog C ABI end to end: connect, create a log, produce one record and
 * a batch of 1,000 keyed events through a producer (reports polled in bulk),
 * read them back, and print the log's metadata and stats.
 *
 *   cc main.c -I../../bindings/c/include -L<target>/debug -lpyralog_c -lpthread -ldl -lm
 *   ./a.out 127.0.0.1:9092 pyralog-data/tls/ca.pem example_c_events
 *
 * On a server with authentication on, set PYRALOG_TOKEN (a bearer token from
 * `pyralog-server token create NAME`), or PYRALOG_CERT_FILE and
 * PYRALOG_KEY_FILE (a client certificate from `pyralog-server cert issue`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyralog.h"

#define EVENTS 1000

/* Prints and frees an error; returns 1 if there was one. */
static int failed(const char *what, pyralog_error_t *e) {
  if (e == NULL) return 0;
  fprintf(stderr, "%s failed: %s (%d): %s\n", what, pyralog_error_code_name(e->code), e->code, e->message);
  if (e->retry_after_ms > 0) fprintf(stderr, "  (the server asks to retry after %llu ms)\n", (unsigned long long)e->retry_after_ms);
  pyralog_error_free(e);
  return 1;
}

/* A batch of `count` keyed records "user-{i % 100}" -> "event-{i}". */
typedef struct {
  char data[EVENTS * 32];
  pyralog_record_in_t records[EVENTS];
  pyralog_batch_in_t batch;
} events_t;

static void make_events(events_t *ev, size_t count) {
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    pyralog_record_in_t *r = &ev->records[i];
    memset(r, 0, sizeof *r);
    r->key_offset = at;
    r->key_len = sprintf(ev->data + at, "user-%zu", i % 100);
    at += (size_t)r->key_len;
    r->value_offset = at;
    r->value_len = (size_t)sprintf(ev->data + at, "event-%zu", i);
    at += r->value_len;
    r->partition = -1;
  }
  ev->batch = (pyralog_batch_in_t){(const uint8_t *)ev->data, at, ev->records, count, NULL, 0};
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s HOST:PORT CA_FILE LOG\n", argv[0]);
    return 2;
  }
  pyralog_str_t log = pyralog_str(argv[3]);
  /* Unset credentials (NULL from getenv) are empty strings: not used. */
  pyralog_client_config_t config = {
      .ca_file = pyralog_str(argv[2]),
      .server_name = pyralog_str(NULL),
      .connect_timeout_ms = 5000,
      .request_timeout_ms = 30000,
      .cert_file = pyralog_str(getenv("PYRALOG_CERT_FILE")),
      .key_file = pyralog_str(getenv("PYRALOG_KEY_FILE")),
      .token = pyralog_str(getenv("PYRALOG_TOKEN")),
  };
  pyralog_client_t *client = NULL;
  if (failed("connect", pyralog_client_connect(pyralog_str(argv[1]), &config, NULL, &client))) return 1;

  pyralog_log_metadata_t *md = NULL;
  if (failed("create_log", pyralog_create_log(client, log, 10, 1, NULL, NULL, &md))) return 1;
  pyralog_log_metadata_free(md);

  static events_t ev;
  make_events(&ev, 1);
  pyralog_record_metadata_t one;
  if (failed("produce", pyralog_produce(client, log, &ev.batch, NULL, &one))) return 1;
  printf("produced one record to partition %u at offset %llu\n", one.partition, (unsigned long long)one.offset);

  pyralog_producer_t *producer = NULL;
  if (failed("producer_new", pyralog_producer_new(client, NULL, &producer))) return 1;
  make_events(&ev, EVENTS);
  if (failed("send", pyralog_producer_send(producer, log, &ev.batch, 7, NULL))) return 1;
  if (failed("flush", pyralog_producer_flush(producer, NULL))) return 1;
  if (failed("close", pyralog_producer_close(producer, NULL))) return 1;
  size_t acked = 0;
  static pyralog_report_t reports[256];
  for (;;) {
    size_t n = 0;
    pyralog_error_t *e = pyralog_producer_poll_reports(producer, reports, 256, 1000, &n);
    if (e != NULL && e->code == 902) { /* Closed: every report taken */
      pyralog_error_free(e);
      break;
    }
    if (failed("poll_reports", e)) return 1;
    for (size_t i = 0; i < n; i++) {
      if (reports[i].token != 7 || failed("delivery", reports[i].error)) return 1;
      acked++;
    }
  }
  pyralog_producer_free(producer);
  printf("acknowledged %zu of %d events\n", acked, EVENTS);

  size_t read = 0;
  for (uint32_t p = 0; p < 10; p++) {
    pyralog_records_t *records = NULL;
    if (failed("consume", pyralog_consume_from_partition(client, log, p, 0, 10, NULL, &records))) return 1;
    for (size_t i = 0; i < records->len && read < 100; i++, read++) {
      const pyralog_record_t *r = &records->items[i];
      if (read < 3)
        printf("partition %u offset %llu key %.*s value %.*s\n", r->partition, (unsigned long long)r->offset,
               (int)r->key_len, (const char *)r->key, (int)r->value_len, (const char *)r->value);
    }
    pyralog_records_free(records);
  }
  printf("read %zu records back\n", read);

  if (failed("get_log_metadata", pyralog_get_log_metadata(client, log, NULL, &md))) return 1;
  pyralog_log_stats_t *stats = NULL;
  if (failed("get_log_stats", pyralog_get_log_stats(client, log, NULL, &stats))) return 1;
  printf("log %s: %u partitions, %llu records, %llu bytes\n", md->name, md->partition_count,
         (unsigned long long)stats->record_count, (unsigned long long)stats->size_bytes);
  int ok = acked == EVENTS && stats->record_count == EVENTS + 1 && md->partitions_len > 0;
  if (md->partitions_len > 0) {
    const pyralog_partition_metadata_t *p = &md->partitions[0];
    printf("partition 0: leader %u, replicas %zu, in sync %zu\n", p->leader, p->replicas_len, p->isr_len);
    int leads = 0; /* the leader is one of the in-sync replicas */
    for (size_t i = 0; i < p->isr_len; i++) leads = leads || p->isr[i] == p->leader;
    ok = ok && leads;
  }
  pyralog_log_metadata_free(md);
  pyralog_log_stats_free(stats);

  pyralog_error_t *e = pyralog_create_log(client, pyralog_str("no/such log"), 1, 1, NULL, NULL, &md);
  printf("bad name: %s\n", e ? pyralog_error_code_name(e->code) : "accepted?");
  ok = ok && e != NULL && e->code == 202;
  pyralog_error_free(e);

  if (failed("client_close", pyralog_client_close(client))) return 1;
  pyralog_client_free(client);
  return ok ? 0 : 1;
}
