#include "kernel/domain/prometheus_text.hpp"

#include <gtest/gtest.h>

namespace nucleo {
namespace {

TEST(PrometheusText, WritesFamiliesSamplesAndEscapedLabels) {
  PrometheusText out;
  out.family("nucleo_jobs_total", "counter", "Jobs run.")
      .sample("nucleo_jobs_total", {{"job", "say \"hi\"\\n"}, {"status", "ok"}}, 3)
      .sample("nucleo_ratio", 0.25);
  EXPECT_EQ(out.str(),
            "# HELP nucleo_jobs_total Jobs run.\n"
            "# TYPE nucleo_jobs_total counter\n"
            "nucleo_jobs_total{job=\"say \\\"hi\\\"\\\\n\",status=\"ok\"} 3\n"
            "nucleo_ratio 0.25\n");
  EXPECT_EQ(prometheus_label("a\nb"), "a\\nb");
}

TEST(PrometheusText, HistogramEndsWithInfSumAndCount) {
  PrometheusText out;
  out.histogram("h", {{"route", "/v1"}}, {0.0025, 1}, {1, 2}, 3, 4.5);
  EXPECT_EQ(out.str(),
            "h_bucket{route=\"/v1\",le=\"0.0025\"} 1\n"
            "h_bucket{route=\"/v1\",le=\"1\"} 2\n"
            "h_bucket{route=\"/v1\",le=\"+Inf\"} 3\n"
            "h_sum{route=\"/v1\"} 4.5\n"
            "h_count{route=\"/v1\"} 3\n");
}

}  // namespace
}  // namespace nucleo
