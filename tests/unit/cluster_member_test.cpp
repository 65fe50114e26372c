// runtime/cluster/member.hpp: the order that breaks tied splits, the state
// names, the merge precedence, uids of new incarnations, and the types'
// CAF inspect through the binary serializer BASP uses.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "runtime/cluster/member.hpp"
#include "runtime/cluster/membership_view.hpp"

namespace cluster_member_test {

using namespace agentgraph::cluster;

template <class T>
T round_trip(T x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE_FALSE(sink(x));
  T back;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE_FALSE(source(back));
  return back;
}

TEST_CASE("cluster member: ids are ordered by host, then port, then uid") {
  const member_id a{"zed", "10.0.0.1", 7000, 9};
  const member_id b{"amy", "10.0.0.1", 7001, 1};
  const member_id c{"bob", "10.0.0.2", 1, 1};
  const member_id a_newer{"zed", "10.0.0.1", 7000, 10};
  CHECK(a < b);  // port decides before the name is looked at
  CHECK(b < c);  // host decides before the port
  CHECK(a < a_newer);
  CHECK_FALSE(a_newer < a);
  std::vector<member_id> ids{c, a_newer, b, a};
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<member_id>{a, a_newer, b, c});
}

TEST_CASE("cluster member: equality takes every field, and agrees with the order") {
  const member_id a{"n1", "h", 1, 5};
  member_id renamed = a;
  renamed.name = "n2";
  CHECK(a == member_id{"n1", "h", 1, 5});
  CHECK(a != renamed);
  CHECK((a < renamed || renamed < a));  // total: unequal ids are ordered
  CHECK(to_string(a) == "n1@h:1#5");
}

TEST_CASE("cluster member: every state has a name that parses back") {
  for (auto s : member_states) {
    auto back = parse_member_state(to_string(s));
    REQUIRE(back);
    CHECK(*back == s);
  }
  CHECK(std::string{to_string(member_state::exiting)} == "exiting");
  CHECK_FALSE(parse_member_state("suspect"));  // a flag, not a state
  CHECK_FALSE(parse_member_state("Up"));
  CHECK_FALSE(parse_member_state(""));
}

TEST_CASE("cluster member: merge precedence is removed > down > exiting > leaving > up > joining") {
  const std::vector<member_state> order{member_state::joining, member_state::up,
                                        member_state::leaving, member_state::exiting,
                                        member_state::down,    member_state::removed};
  for (size_t i = 1; i < order.size(); ++i)
    CHECK(precedence(order[i - 1]) < precedence(order[i]));
  CHECK(is_live(member_state::exiting));
  CHECK_FALSE(is_live(member_state::down));
  CHECK_FALSE(is_live(member_state::removed));
}

TEST_CASE("cluster member: newer_record picks state, then version, then a fixed tiebreak") {
  member_record up;
  up.id = {"n", "h", 1, 1};
  up.state = member_state::up;
  up.version = 7;
  member_record down = up;
  down.state = member_state::down;
  down.version = 1;
  CHECK(newer_record(up, down) == down);
  CHECK(newer_record(down, up) == down);
  member_record up8 = up;
  up8.version = 8;
  CHECK(newer_record(up, up8) == up8);
  member_record other_url = up;
  other_url.url = "http://b";
  CHECK(newer_record(up, other_url) == newer_record(other_url, up));
}

TEST_CASE("cluster member: next_uid grows with the start time and past the previous uid") {
  const uint64_t first = next_uid(0, 1'800'000'000'000, 12345);
  const uint64_t restart = next_uid(0, 1'800'000'000'001, 0);  // 1 ms later, any random bits
  CHECK(restart > first);
  CHECK(next_uid(first, 1'800'000'000'000, 12345) == first + 1);  // rejoin, same millisecond
  CHECK(next_uid(first, 1'700'000'000'000, 7) == first + 1);      // clock went back: still larger
  CHECK(next_uid(0, 1'800'000'000'000, 1) != next_uid(0, 1'800'000'000'000, 2));
}

TEST_CASE("cluster member: id, record and observation survive CAF's binary serializer") {
  member_record r;
  r.id = {"node-1", "127.0.0.1", 7101, 0xfeedbeefcafeull};
  r.state = member_state::leaving;
  r.version = 42;
  r.pid = 4242;
  r.url = "http://127.0.0.1:8081";
  r.dir_version = 17;
  CHECK(round_trip(r) == r);
  CHECK(round_trip(r.id) == r.id);
  reachability_obs o{r.id, {"node-2", "127.0.0.1", 7102, 3}, false, 9};
  auto back = round_trip(o);
  CHECK(back.observer == o.observer);
  CHECK(back.subject == o.subject);
  CHECK_FALSE(back.reachable);
  CHECK(back.version == 9);
}

}  // namespace cluster_member_test
