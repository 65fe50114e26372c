// Topics across nodes (net/cluster DESIGN.md §8.6) on the cluster_net
// fixture, in virtual time: each planet runs a node actor, a topic actor
// with scripted subscriber agents, and the messaging glue. A publish
// reaches every subscriber on every node with ONE message per other node
// that lists the topic; the per-node queue, the message size and what a
// peer may send are bounded and checked.
#include "cluster_node_support.hpp"

#include <thread>

#include "actors/host/cluster/cluster_messaging.hpp"
#include "actors/topic/topic_actor.hpp"
#include "runtime/error.hpp"

namespace agentgraph::test::cluster_net {

namespace {

// The tasks a subscriber agent got: (agent, topic, input).
struct inbox {
  std::vector<std::tuple<std::string, std::string, std::string>> got;
  size_t of(const std::string& agent) const {
    return static_cast<size_t>(std::count_if(got.begin(), got.end(),
                                             [&](const auto& t) { return std::get<0>(t) == agent; }));
  }
};

agent_actor::behavior_type subscriber(std::string name, std::shared_ptr<inbox> box) {
  auto run = [name, box](task_request& t) {
    box->got.emplace_back(name, t.context.get_string("topic"), t.input);
    task_result r;
    r.task_id = t.task_id;
    r.agent = name;
    return r;
  };
  return {
      [run](execute_atom, task_request& t) { return run(t); },
      [run](execute_stream_atom, task_request& t, stream_sink_actor&) { return run(t); },
      [](stats_atom) { return agent_stats{}; },
      [](ping_atom) { return pong_atom::value; },
  };
}

struct topic_node {
  node_under_test n;
  topic_actor topics;
};

// A node whose agents `agents` subscribe to `topic`.
topic_node start_topic_node(cluster_net& net, const std::string& host,
                            const std::vector<std::string>& seeds, const std::string& topic,
                            const std::vector<std::string>& agents, std::shared_ptr<inbox> box,
                            topic_limits limits = {}) {
  auto n = start_node(net, host, seeds);
  auto subs = std::make_shared<topic_subscriptions>(limits);
  for (const auto& a : agents) {
    auto h = n.p->track(n.p->sys().spawn(subscriber, host + "/" + a, box));
    REQUIRE(!subs->subscribe(topic, {a, dep<agent_actor>{h}, std::chrono::seconds{5}}));
  }
  auto topics = n.p->track(spawn_topic_actor(n.p->sys(), topic_actor_config{subs}));
  REQUIRE(!attach_cluster_messaging(n.p->sys(), n.node, topics, *subs,
                                    std::make_shared<group_instances>()));
  net.step_all();
  return {n, topics};
}

// Asks from a local actor on the node's planet; the reply or the error.
template <class Reply, class... Ts>
caf::expected<Reply> ask_on(cluster_net& net, const node_under_test& n, const caf::actor& to,
                            Ts... xs) {
  auto out = std::make_shared<std::optional<caf::expected<Reply>>>();
  n.p->sys().spawn([out, to, xs...](caf::event_based_actor* self) {
    self->request(to, std::chrono::seconds{30}, xs...)
        .then([out](Reply& r) { *out = std::move(r); },
              [out](caf::error& e) { *out = std::move(e); });
  });
  net.step_all();
  REQUIRE(out->has_value());
  return std::move(**out);
}

caf::expected<publish_receipt> publish(cluster_net& net, const topic_node& t,
                                       const std::string& topic, Value message) {
  return ask_on<publish_receipt>(net, t.n, caf::actor_cast<caf::actor>(t.topics),
                                 topic_publish_atom::value, topic, std::move(message));
}

topic_stats stats(cluster_net& net, const topic_node& t) {
  auto s = ask_on<topic_stats>(net, t.n, caf::actor_cast<caf::actor>(t.topics), stats_atom::value);
  REQUIRE(s);
  return *s;
}

// Three nodes: n1 publishes only, n2 has two subscribers of "news", n3 one.
std::vector<topic_node> three_with_topics(cluster_net& net, std::shared_ptr<inbox> box,
                                          topic_limits limits = {}) {
  const std::vector<std::string> seeds{seed("n1"), seed("n2")};
  std::vector<topic_node> out;
  out.push_back(start_topic_node(net, "n1", seeds, "news", {}, box, limits));
  out.push_back(start_topic_node(net, "n2", seeds, "news", {"a", "b"}, box, limits));
  out.push_back(start_topic_node(net, "n3", seeds, "news", {"c"}, box, limits));
  REQUIRE(net.advance_until([&] { return all_up(net, {out[0].n, out[1].n, out[2].n}, 3); }, 15s));
  // Routes follow the directory: n1 knows both subscribing nodes.
  REQUIRE(net.advance_until([&] { return stats(net, out[0]).routes == 2; }, 5s));
  return out;
}

}  // namespace

TEST_CASE("topics: a publish reaches every subscriber on every node, one message per node") {
  cluster_net net;
  auto box = std::make_shared<inbox>();
  auto nodes = three_with_topics(net, box);
  auto r = publish(net, nodes[0], "news", Value{"hello"});
  REQUIRE(r);
  CHECK(r->subscribers_local == 0);
  CHECK(r->nodes == 2);
  run_for(net, 500ms);
  CHECK(box->of("n2/a") == 1);
  CHECK(box->of("n2/b") == 1);
  CHECK(box->of("n3/c") == 1);
  for (const auto& [agent, topic, input] : box->got) {
    CHECK(topic == "news");
    CHECK(input == "hello");
  }
  CHECK(stats(net, nodes[0]).sent == 2);
  const auto s2 = stats(net, nodes[1]);
  CHECK(s2.received == 1);  // one message for its two subscribers
  CHECK(s2.delivered == 2);
  CHECK(stats(net, nodes[2]).received == 1);
  // A publish on a subscribing node serves its own subscribers locally and
  // sends only to the other subscribing node.
  auto r2 = publish(net, nodes[1], "news", Value{"again"});
  REQUIRE(r2);
  CHECK(r2->subscribers_local == 2);
  CHECK(r2->nodes == 1);
  run_for(net, 500ms);
  CHECK(box->of("n3/c") == 2);
  CHECK(stats(net, nodes[2]).received == 2);
  // A topic nobody subscribes to goes nowhere, and is no error.
  auto r3 = publish(net, nodes[0], "sports", Value{"x"});
  REQUIRE(r3);
  CHECK(r3->nodes == 0);
}

TEST_CASE("topics: a killed node's routes go; the others still get every message") {
  cluster_net net;
  auto box = std::make_shared<inbox>();
  auto nodes = three_with_topics(net, box);
  net.kill(*nodes[2].n.p);
  REQUIRE(net.advance_until([&] { return stats(net, nodes[0]).routes == 1; }, 5s));
  auto r = publish(net, nodes[0], "news", Value{"after"});
  REQUIRE(r);
  CHECK(r->nodes == 1);
  run_for(net, 500ms);
  CHECK(box->of("n2/a") == 1);
  CHECK(box->of("n3/c") == 0);
}

TEST_CASE("topics: a restarted node is a peer again, in place of its old incarnation") {
  cluster_net net;
  auto box = std::make_shared<inbox>();
  // Room for exactly the two other nodes: the old incarnation's entry must
  // make way for the new one's, whichever the directory reports first.
  topic_limits limits;
  limits.peers_max = 2;
  auto nodes = three_with_topics(net, box, limits);
  net.kill(*nodes[2].n.p);
  auto again = start_topic_node(net, "n3", {seed("n1"), seed("n2")}, "news", {"c"}, box, limits);
  REQUIRE(net.advance_until([&] { return all_up(net, {nodes[0].n, nodes[1].n, again.n}, 3); },
                            15s));
  REQUIRE(net.advance_until([&] { return stats(net, again).routes == 1; }, 5s));
  const auto refused = stats(net, nodes[1]).refused;
  auto r = publish(net, again, "news", Value{"from the new n3"});
  REQUIRE(r);
  CHECK(r->nodes == 1);
  run_for(net, 500ms);
  CHECK(box->of("n2/a") == 1);
  CHECK(box->of("n2/b") == 1);
  CHECK(stats(net, nodes[1]).refused == refused);
}

TEST_CASE("topics: bounds on the node queue and the message size") {
  cluster_net net;
  auto box = std::make_shared<inbox>();
  topic_limits limits;
  limits.node_queue_max = 1;
  limits.message_bytes_max = 64;
  auto nodes = three_with_topics(net, box, limits);
  // Two publishes before any step: the first's messages are still in
  // flight to both nodes when the second comes, so it skips them.
  auto first = std::make_shared<std::optional<publish_receipt>>();
  auto second = std::make_shared<std::optional<publish_receipt>>();
  nodes[0].n.p->sys().spawn([first, second, t = nodes[0].topics](caf::event_based_actor* self) {
    for (auto out : {first, second})
      self->request(t, std::chrono::seconds{5}, topic_publish_atom::value, std::string{"news"},
                    Value{"m"})
          .then([out](publish_receipt& r) { *out = r; }, [](caf::error&) {});
  });
  run_for(net, 500ms);
  REQUIRE(first->has_value());
  REQUIRE(second->has_value());
  CHECK((*first)->nodes == 2);
  CHECK((*second)->nodes == 0);
  CHECK((*second)->nodes_overloaded == 2);
  CHECK(stats(net, nodes[0]).dropped_node_queue == 2);
  CHECK(box->of("n3/c") == 1);
  // Once answered, the queue has room again.
  auto third = publish(net, nodes[0], "news", Value{"m"});
  REQUIRE(third);
  CHECK(third->nodes == 2);
  // Too large, or a bad topic name: refused before anything is sent.
  auto big = publish(net, nodes[0], "news", Value{std::string(100, 'x')});
  REQUIRE(!big);
  CHECK(errc_of(big.error()) == errc::limit_exceeded);
  auto bad = publish(net, nodes[0], "News!", Value{"m"});
  REQUIRE(!bad);
  CHECK(errc_of(bad.error()) == errc::invalid_argument);
  // An empty message: every agent would refuse it as a task input, so the
  // publish is refused and not counted.
  const auto published = stats(net, nodes[0]).published;
  auto empty = publish(net, nodes[0], "news", Value{std::string{}});
  REQUIRE(!empty);
  CHECK(errc_of(empty.error()) == errc::invalid_argument);
  CHECK(stats(net, nodes[0]).published == published);
}

TEST_CASE("topics: what a peer delivers is checked; a local sender is no peer") {
  cluster_net net;
  auto box = std::make_shared<inbox>();
  topic_limits limits;
  limits.message_bytes_max = 64;
  auto nodes = three_with_topics(net, box, limits);
  // n1 is a member with a topic actor, so its node may deliver to n2; the
  // handle of n2's topic actor comes from n1's directory.
  auto remote = std::make_shared<caf::actor>();
  {
    auto node = nodes[0].n.node;
    nodes[0].n.p->sys().spawn([remote, node](caf::event_based_actor* self) {
      self->request(node, std::chrono::seconds{5}, cluster::dir_list_atom::value)
          .then(
              [remote](std::vector<cluster::dir_listing>& xs) {
                for (const auto& x : xs)
                  if (x.entry.kind == "topic" && x.entry.name == "news" &&
                      x.owner.name == "n2:4242")
                    *remote = x.entry.handle;
              },
              [](caf::error&) {});
    });
    net.step_all();
  }
  REQUIRE(*remote);
  auto deliver = [&](topic_message m) {
    return ask_on<uint32_t>(net, nodes[0].n, *remote, topic_deliver_atom::value, std::move(m));
  };
  auto ok = deliver({"news", Value{"direct"}, "n1-test-1"});
  REQUIRE(ok);
  CHECK(*ok == 2);
  auto big = deliver({"news", Value{std::string(100, 'x')}, "n1-test-2"});
  REQUIRE(!big);
  CHECK(errc_of(big.error()) == errc::limit_exceeded);
  auto name = deliver({"../etc", Value{"x"}, "n1-test-3"});
  REQUIRE(!name);
  CHECK(errc_of(name.error()) == errc::invalid_argument);
  auto nobody = deliver({"sports", Value{"x"}, "n1-test-4"});
  REQUIRE(!nobody);
  CHECK(errc_of(nobody.error()) == errc::not_found);
  auto no_id = deliver({"news", Value{"x"}, ""});
  REQUIRE(!no_id);
  auto empty = deliver({"news", Value{std::string{}}, "n1-test-5"});
  REQUIRE(!empty);
  CHECK(errc_of(empty.error()) == errc::invalid_argument);
  CHECK(stats(net, nodes[1]).refused == 5);
  // A local actor is not a peer: deliver is for other nodes only.
  auto local = ask_on<uint32_t>(net, nodes[1].n, caf::actor_cast<caf::actor>(nodes[1].topics),
                                topic_deliver_atom::value, topic_message{"news", Value{"x"}, "l-1"});
  REQUIRE(!local);
  CHECK(errc_of(local.error()) == errc::unauthorized);
  run_for(net, 500ms);
  CHECK(box->of("n2/a") == 1);  // only the one good delivery
}

TEST_CASE("topics: without a cluster a publish serves the node's own subscribers") {
  caf::actor_system_config cfg;
  register_all_types(cfg);
  caf::actor_system sys{cfg};
  auto box = std::make_shared<inbox>();
  auto subs = std::make_shared<topic_subscriptions>();
  auto a = sys.spawn(subscriber, "a", box);
  REQUIRE(!subs->subscribe("news", {"a", dep<agent_actor>{a}, std::chrono::seconds{5}}));
  auto topics = spawn_topic_actor(sys, topic_actor_config{subs});
  {
    caf::scoped_actor self{sys};
    Value obj = Value::object();
    obj["n"] = Value{1};
    self->request(topics, std::chrono::seconds{5}, topic_publish_atom::value,
                  std::string{"news"}, obj)
        .receive([](publish_receipt& r) {
                   CHECK(r.subscribers_local == 1);
                   CHECK(r.nodes == 0);
                 },
                 [](caf::error& e) { FAIL(describe(e)); });
    // The delivery is counted when the agent's reply comes back, which
    // may be after the stats are asked: ask until delivered, waiting a
    // little between asks, for at most 10 s (bounded, not a timing check).
    topic_stats s;
    for (int i = 0; i < 1000 && s.delivered == 0; ++i) {
      if (i > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
      self->request(topics, std::chrono::seconds{5}, stats_atom::value)
          .receive([&](topic_stats& x) { s = x; }, [](caf::error&) {});
    }
    CHECK(s.delivered == 1);
  }
  REQUIRE(box->got.size() == 1);
  CHECK(std::get<2>(box->got[0]) == R"({"n":1})");
  // Subscription bounds.
  topic_limits small;
  small.topics_max = 1;
  small.subscribers_per_topic_max = 1;
  topic_subscriptions few{small};
  CHECK(!few.subscribe("t1", {"a", dep<agent_actor>{a}, std::chrono::seconds{1}}));
  CHECK(errc_of(few.subscribe("t1", {"b", dep<agent_actor>{a}, std::chrono::seconds{1}})) ==
        errc::limit_exceeded);
  CHECK(errc_of(few.subscribe("t2", {"a", dep<agent_actor>{a}, std::chrono::seconds{1}})) ==
        errc::limit_exceeded);
  CHECK(errc_of(few.subscribe("t1", {"a", dep<agent_actor>{a}, std::chrono::seconds{1}})) ==
        errc::invalid_argument);
  caf::anon_send_exit(topics, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

}  // namespace agentgraph::test::cluster_net
