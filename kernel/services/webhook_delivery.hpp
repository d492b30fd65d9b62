#pragma once

// Delivering domain events to webhooks (docs/architecture.md §8), on the kernel's background workers:
//
//   dispatcher ──(subscriber "kernel:webhooks", every event)──▶ one job per matching
//   active webhook of the event's tenant ──(job worker)──▶ signed POST, logged
//
// Each POST is one attempt, logged in webhook_deliveries; a non-2xx answer or no answer
// fails the job, which the queue retries with back-off (jobs.retry_*) up to
// jobs.max_attempts. The body is the event envelope; the headers follow Standard
// Webhooks: webhook-id (the event id, the same on every attempt: receivers
// de-duplicate by it), webhook-timestamp (Unix seconds of this attempt) and
// webhook-signature "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>", key being the
// base64-decoded part of the secret after "whsec_".

#include <string>

#include "kernel/events/dispatcher.hpp"
#include "kernel/events/jobs.hpp"
#include "kernel/events/outbound_http.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

inline constexpr const char* webhook_delivery_job_name = "kernel:webhooks.deliver";

// "v1,<base64 signature>" of one message under a "whsec_…" secret.
std::string standard_webhook_signature(const std::string& secret, const std::string& message_id,
                                       std::int64_t timestamp_seconds, const std::string& body);

// The dispatcher's subscriber that queues a delivery job per matching webhook.
events::Subscriber webhook_fanout(ServiceDependencies deps, events::JobQueue& jobs, const Clock& clock);

// The job that sends one event to one webhook.
events::JobDefinition webhook_delivery_job(ServiceDependencies deps, const events::OutboundHttp& outbound,
                                           const Clock& clock);

}  // namespace nucleo::services
