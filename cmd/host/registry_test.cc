#include "cmd/host/registry.h"

#include <string>

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1796000000);

SessionRecord Named(const std::string& name, absl::Time created = kT0) {
  SessionRecord r;
  r.name = name;
  r.created = created;
  r.width = 80;
  r.height = 24;
  return r;
}

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

TEST(SessionRegistryTest, IdsCountUpAndAreNeverReused) {
  SessionRegistry reg;
  EXPECT_EQ(*reg.Add(Named("")), 1u);
  EXPECT_EQ(*reg.Add(Named("work")), 2u);
  reg.MarkEnded(2, 0, "shell exited", kT0);
  EXPECT_EQ(*reg.Add(Named("work")), 3u);  // the name is free again
}

TEST(SessionRegistryTest, FindsByNameThenById) {
  SessionRegistry reg;
  ASSERT_TRUE(reg.Add(Named("")).ok());
  ASSERT_TRUE(reg.Add(Named("work")).ok());
  EXPECT_EQ((*reg.Find("work"))->id, 2u);
  EXPECT_EQ((*reg.Find("1"))->id, 1u);
  EXPECT_EQ((*reg.Find("2"))->name, "work");
}

TEST(SessionRegistryTest, NotFoundListsWhatExists) {
  SessionRegistry reg;
  ASSERT_TRUE(reg.Add(Named("")).ok());
  ASSERT_TRUE(reg.Add(Named("work")).ok());
  auto found = reg.Find("play");
  ASSERT_FALSE(found.ok());
  EXPECT_TRUE(absl::IsNotFound(found.status()));
  EXPECT_EQ(found.status().message(), "no session 'play'; sessions: 1, 2 (work)");
  SessionRegistry empty;
  EXPECT_EQ(empty.Find("7").status().message(), "no session '7'; sessions: none");
}

TEST(SessionRegistryTest, RefusesDuplicateLiveNamesAndBadNames) {
  SessionRegistry reg;
  ASSERT_TRUE(reg.Add(Named("work")).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(reg.Add(Named("work")).status()));
  EXPECT_FALSE(reg.Add(Named("12")).ok());
  EXPECT_FALSE(reg.Add(Named("a b")).ok());
  EXPECT_FALSE(reg.Add(Named("a/b")).ok());
  EXPECT_FALSE(reg.Add(Named(std::string(65, 'x'))).ok());
  EXPECT_TRUE(reg.Add(Named("my-host.2_x")).ok());
}

TEST(SessionRegistryTest, EndedSessionKeepsItsExitStatus) {
  SessionRegistry reg;
  ASSERT_TRUE(reg.Add(Named("work")).ok());
  reg.MarkEnded(1, 3, "shell exited", kT0 + absl::Seconds(5));
  auto found = reg.Find("work");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE((*found)->ended);
  EXPECT_EQ((*found)->exit_status, 3);
  EXPECT_EQ(reg.live_count(), 0u);
  EXPECT_EQ(reg.Summary(), "none");
}

TEST(SessionRegistryTest, OldestEndedRecordsAreForgotten) {
  SessionRegistry reg;
  for (size_t i = 0; i < SessionRegistry::kMaxEndedKept + 3; ++i) {
    uint64_t id = *reg.Add(Named(""));
    reg.MarkEnded(id, 0, "shell exited", kT0 + absl::Seconds(static_cast<int64_t>(i)));
  }
  EXPECT_EQ(reg.All().size(), SessionRegistry::kMaxEndedKept);
  EXPECT_FALSE(reg.Find("1").ok());
  EXPECT_FALSE(reg.Find("3").ok());
  EXPECT_TRUE(reg.Find("4").ok());
}

TEST(SessionRegistryTest, MostRecentlyDetachedPrefersNewestContact) {
  SessionRegistry reg;
  SessionRecord a = Named("a");
  a.last_contact = kT0 + absl::Seconds(10);
  SessionRecord b = Named("b");
  b.last_contact = kT0 + absl::Seconds(20);
  SessionRecord c = Named("c");
  c.attached = true;
  c.last_contact = kT0 + absl::Seconds(30);
  ASSERT_TRUE(reg.Add(a).ok());
  ASSERT_TRUE(reg.Add(b).ok());
  ASSERT_TRUE(reg.Add(c).ok());
  ASSERT_NE(reg.MostRecentlyDetached(), nullptr);
  EXPECT_EQ(reg.MostRecentlyDetached()->name, "b");
  reg.MarkEnded(2, 0, "x", kT0);
  EXPECT_EQ(reg.MostRecentlyDetached()->name, "a");
  reg.MarkEnded(1, 0, "x", kT0);
  EXPECT_EQ(reg.MostRecentlyDetached(), nullptr);
}

TEST(SessionRegistryTest, JsonHasEveryListedField) {
  SessionRegistry reg;
  SessionRecord r = Named("work");
  r.attached = true;
  r.last_contact = kT0 + absl::Seconds(1);
  r.last_client = "192.0.2.1:50000";
  r.foreground_command = "vim";
  r.pid = 4242;
  ASSERT_TRUE(reg.Add(r).ok());
  ASSERT_TRUE(reg.Add(Named("")).ok());
  const std::string json = reg.ToJson(false);
  EXPECT_EQ(json.substr(0, 14), "{\"sessions\":[{");
  for (const char* field :
       {"\"id\":1", "\"name\":\"work\"", "\"created\":\"2026-11-30T", "\"state\":\"attached\"",
        "\"last_contact\":\"2026-11-30T", "\"last_client_address\":\"192.0.2.1:50000\"",
        "\"width\":80", "\"height\":24", "\"foreground_command\":\"vim\"", "\"pid\":4242",
        "\"id\":2,\"name\":null", "\"state\":\"detached\",\"last_contact\":null"}) {
    EXPECT_TRUE(Contains(json, field)) << field << " not in " << json;
  }
  reg.MarkEnded(2, 130, "killed", kT0);
  EXPECT_FALSE(Contains(reg.ToJson(false), "\"id\":2"));
  EXPECT_TRUE(Contains(reg.ToJson(true), "\"exit_status\":130"));
}

TEST(SessionRegistryTest, TableShowsLiveSessions) {
  SessionRegistry reg;
  EXPECT_EQ(reg.ToTable(kT0), "no sessions\n");
  SessionRecord r = Named("work");
  r.last_contact = kT0 - absl::Minutes(5);
  r.foreground_command = "vim";
  ASSERT_TRUE(reg.Add(r).ok());
  const std::string table = reg.ToTable(kT0);
  EXPECT_TRUE(Contains(table, "ID")) << table;
  EXPECT_TRUE(Contains(table, "work")) << table;
  EXPECT_TRUE(Contains(table, "detached")) << table;
  EXPECT_TRUE(Contains(table, "5m ago")) << table;
  EXPECT_TRUE(Contains(table, "80x24")) << table;
}

TEST(JsonQuoteTest, EscapesQuotesControlsAndHighBytes) {
  EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonQuote(std::string("\n\x01\xc3", 3)), "\"\\u000a\\u0001\\u00c3\"");
}

}  // namespace
}  // namespace moshx::cmd
