// Unit tests of kubit::api::ParseYaml: YAML and JSON bodies to JSON values,
// scalars resolved as upstream's sigs.k8s.io/yaml (go-yaml v2) resolves
// them, and hostile input refused without crashing.
#include "core/api/yaml.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace {

using Json = nlohmann::json;
using kubit::api::ParseYaml;
using kubit::api::ParseYamlDocuments;

Json Parse(const std::string& text) {
  Json out;
  std::string err;
  bool ok = ParseYaml(text, &out, &err);
  INFO(err);
  CHECK(ok);
  return out;
}

std::string ParseError(const std::string& text) {
  Json out;
  std::string err;
  CHECK_FALSE(ParseYaml(text, &out, &err));
  return err;
}

TEST_CASE("yaml: scalars resolve as upstream's YAML decoding") {
  Json j = Parse(R"(
t: true
f: False
yy: yes
nn: off
y: 1
n: 2
nul: null
tilde: ~
empty:
int: 12
neg: -5
pos: +7
hex: 0x1F
oct: 010
oct2: 0o17
bin: 0b101
under: 1_000
float: 1.5
half: .5
exp: 1e3
big: 99999999999999999999
q1: "12"
q2: '007'
q3: "true"
date: 2024-01-01
ts: 2001-12-14T21:59:43.10-05:00
str: hello world
colon: a:b
ver: 1.2.3
)");
  CHECK(j["t"] == true);
  CHECK(j["f"] == false);
  CHECK(j["yy"] == true);
  CHECK(j["nn"] == false);
  CHECK(j["true"] == 1);  // YAML 1.1's y and n are booleans, keys included
  CHECK(j["false"] == 2);
  CHECK(j["nul"].is_null());
  CHECK(j["tilde"].is_null());
  CHECK(j["empty"].is_null());
  CHECK(j["int"] == 12);
  CHECK(j["int"].is_number_integer());
  CHECK(j["neg"] == -5);
  CHECK(j["pos"] == 7);
  CHECK(j["hex"] == 31);
  CHECK(j["oct"] == 8);
  CHECK(j["oct2"] == 15);
  CHECK(j["bin"] == 5);
  CHECK(j["under"] == 1000);
  CHECK(j["float"] == 1.5);
  CHECK(j["half"] == 0.5);
  CHECK(j["exp"] == 1000);
  CHECK(j["exp"].is_number_integer());  // Go's JSON gives integral floats back as integers
  CHECK(j["big"].is_number_float());
  CHECK(j["q1"] == "12");
  CHECK(j["q2"] == "007");
  CHECK(j["q3"] == "true");
  CHECK(j["date"] == "2024-01-01");
  CHECK(j["ts"] == "2001-12-14T21:59:43.10-05:00");
  CHECK(j["str"] == "hello world");
  CHECK(j["colon"] == "a:b");
  CHECK(j["ver"] == "1.2.3");
}

TEST_CASE("yaml: a Deployment manifest") {
  Json j = Parse(R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: "frontend"}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27
        args: ["--port", "8080"]
        ports:
        - containerPort: 80
          protocol: TCP
        env:
        - name: GREETING
          value: |
            hello
            world
        - name: FOLDED
          value: >-
            one
            two
)");
  CHECK(j["apiVersion"] == "apps/v1");
  CHECK(j["metadata"]["labels"] == Json{{"app", "web"}, {"tier", "frontend"}});
  CHECK(j["spec"]["replicas"] == 3);
  const Json& c = j["spec"]["template"]["spec"]["containers"][0];
  CHECK(c["image"] == "nginx:1.27");
  CHECK(c["args"] == Json{"--port", "8080"});
  CHECK(c["ports"][0]["containerPort"] == 80);
  CHECK(c["env"][0]["value"] == "hello\nworld\n");
  CHECK(c["env"][1]["value"] == "one two");
}

TEST_CASE("yaml: JSON bodies parse as JSON, integral floats as integers") {
  Json j = Parse(R"({"a": 1.0, "b": [1, 2.5, "x"], "c": {"d": null}, "e": "\u00e9\ud83d\ude00"})");
  CHECK(j["a"] == 1);
  CHECK(j["a"].is_number_integer());
  CHECK(j["b"] == Json{1, 2.5, "x"});
  CHECK(j["c"]["d"].is_null());
  CHECK(j["e"] == "\xc3\xa9\xf0\x9f\x98\x80");
  // Flow YAML that is not JSON goes to the YAML parser.
  Json y = Parse("{a: 1, b: [x, z]}");
  CHECK(y == Json{{"a", 1}, {"b", {"x", "z"}}});
}

TEST_CASE("yaml: keys become strings, anchors and merge keys") {
  Json j = Parse(R"(
1: one
true: t
yes: y
1.5: f
base: &base {a: 1, b: 2}
derived:
  <<: *base
  b: 3
list: &l [x, z]
again: *l
multi:
  <<: [{a: 1}, {a: 2, c: 3}]
)");
  CHECK(j["1"] == "one");
  CHECK(j["true"] == true);  // "true" and "yes" are the same key; the later one wins: `yes: y`
  CHECK(j["1.5"] == "f");
  CHECK(j["derived"] == Json{{"a", 1}, {"b", 3}});
  CHECK(j["again"] == Json{"x", "z"});
  CHECK(j["multi"] == Json{{"a", 1}, {"c", 3}});
}

TEST_CASE("yaml: explicit tags") {
  Json j = Parse("a: !!str 123\nb: !!int \"5\"\nc: !!float 2\nd: !!binary aGVsbG8=\ne: !custom x\n");
  CHECK(j["a"] == "123");
  CHECK(j["b"] == 5);
  CHECK(j["c"] == 2);
  CHECK(j["d"] == "hello");
  CHECK(j["e"] == "x");
  CHECK(ParseError("a: !!int abc\n").find("cannot decode !!str `abc` as a !!int") != std::string::npos);
}

TEST_CASE("yaml: documents") {
  CHECK(Parse("").is_null());
  CHECK(Parse("a: 1\n---\nb: 2\n") == Json{{"a", 1}});
  std::vector<Json> docs;
  std::string err;
  REQUIRE(ParseYamlDocuments("a: 1\n---\nb: 2\n---\n", &docs, &err));
  REQUIRE(docs.size() >= 2);
  CHECK(docs[0] == Json{{"a", 1}});
  CHECK(docs[1] == Json{{"b", 2}});
  CHECK(Parse("- 1\n- two\n") == Json{1, "two"});
  CHECK(Parse("plain") == "plain");
}

TEST_CASE("yaml: errors carry the line and column") {
  std::string err = ParseError("a: 1\nb: [1, 2\nc: 3\n");
  CHECK(err.find("error converting YAML to JSON: yaml: line ") == 0);
  CHECK(err.find("column") != std::string::npos);
  err = ParseError("a: b: c\n");
  CHECK(err.find("line 1") != std::string::npos);
  CHECK(ParseError("a: .inf\n").find("json: unsupported value: +Inf") != std::string::npos);
  CHECK(ParseError("a: .nan\n").find("NaN") != std::string::npos);
  CHECK(ParseError("? [a]\n: b\n").find("invalid map key") != std::string::npos);
  CHECK(ParseError("a:\n  <<: 1\n").find("map merge requires") != std::string::npos);
}

TEST_CASE("yaml: hostile bodies are refused, not fatal") {
  // Deep nesting, flow and block.
  CHECK(ParseError(std::string(100000, '[')).find("depth") != std::string::npos);
  CHECK(ParseError(std::string(50000, '{')).find("depth") != std::string::npos);
  std::string dashes;
  for (int i = 0; i < 5000; i++) dashes += "- ";
  dashes += "x\n";
  CHECK(ParseError(dashes).find("depth") != std::string::npos);
  std::string indented;
  for (int i = 0; i < 3000; i++) indented += std::string(i, ' ') + "k:\n";
  Json out;
  std::string err;
  CHECK_FALSE(ParseYaml(indented, &out, &err));
  // JSON nested too deeply.
  CHECK_FALSE(ParseYaml(std::string(5000, '[') + std::string(5000, ']'), &out, &err));
  // Nesting within the limit is fine.
  CHECK(Parse(std::string(200, '[') + std::string(200, ']')).is_array());

  // A billion laughs.
  std::string laughs = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; c++, prev++) {
    laughs += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; i++) laughs += std::string(i ? "," : "") + "*" + prev;
    laughs += "]\n";
  }
  err.clear();
  CHECK_FALSE(ParseYaml(laughs, &out, &err));
  CHECK(err.find("excessive aliasing") != std::string::npos);
  // Huge strings repeated by aliases.
  std::string big = "a: &a \"" + std::string(1 << 20, 'x') + "\"\nb: [";
  for (int i = 0; i < 200; i++) big += std::string(i ? "," : "") + "*a";
  big += "]\n";
  CHECK_FALSE(ParseYaml(big, &out, &err));
}

TEST_CASE("yaml: random and mutated bodies never crash") {
  std::mt19937 rng(12345);
  const std::string seeds[] = {
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: \"1\"\n",
      "a: &x [1, {b: *x}]\n<<: {c: d}\n? complex\n: key\n- - x\n",
      "{\"a\": [1, 2, {\"b\": \"c\\u0041\"}], \"d\": true}",
      "s: |\n  block\n  text\nt: >\n  folded\n",
      "%YAML 1.2\n--- !tag\n&a x: *a\n...\n",
  };
  const char alphabet[] = "-:?[]{},&*!|>'\"%@` #\n\t ab01.~<";
  Json out;
  std::string err;
  for (int iter = 0; iter < 3000; iter++) {
    std::string s = seeds[iter % 5];
    int edits = 1 + rng() % 8;
    for (int e = 0; e < edits; e++) {
      size_t pos = s.empty() ? 0 : rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s.insert(s.begin() + pos, alphabet[rng() % (sizeof(alphabet) - 1)]);
          break;
        case 1:
          if (!s.empty()) s.erase(pos, 1);
          break;
        case 2:
          if (!s.empty()) s[pos] = char(rng() % 256);
          break;
        default:
          s.insert(pos, s.substr(0, std::min<size_t>(s.size(), rng() % 16)));
      }
    }
    ParseYaml(s, &out, &err);
    std::vector<Json> docs;
    ParseYamlDocuments(s, &docs, &err);
  }
  CHECK(true);
}

}  // namespace
