// Unit tests of image reference parsing and digests
// (runtime/image/reference.h, digest.h).
#include <doctest/doctest.h>

#include "runtime/image/digest.h"
#include "runtime/image/reference.h"

namespace {

using namespace kubit::runtime::image;

const std::string kDigest = "sha256:" + std::string(64, 'a');

std::string Normalise(const std::string& ref) {
  Reference r;
  std::string error;
  REQUIRE_MESSAGE(ParseReference(ref, &r, &error), ref << ": " << error);
  return r.String();
}

std::string Refused(const std::string& ref) {
  Reference r;
  std::string error;
  CHECK_MESSAGE(!ParseReference(ref, &r, &error), ref << " was accepted as " << r.String());
  return error;
}

TEST_CASE("image reference: short names normalise as docker does") {
  CHECK(Normalise("busybox") == "docker.io/library/busybox:latest");
  CHECK(Normalise("busybox:1.36") == "docker.io/library/busybox:1.36");
  CHECK(Normalise("rancher/pause:3.6") == "docker.io/rancher/pause:3.6");
  CHECK(Normalise("index.docker.io/library/alpine") == "docker.io/library/alpine:latest");
  CHECK(Normalise("docker.io/alpine") == "docker.io/library/alpine:latest");
  CHECK(Normalise("localhost/app") == "localhost/app:latest");
  CHECK(Normalise("127.0.0.1:5000/busybox:1") == "127.0.0.1:5000/busybox:1");
  CHECK(Normalise("registry.example.com/a/b/c:v1.2-rc_3") == "registry.example.com/a/b/c:v1.2-rc_3");
  CHECK(Normalise("[::1]:5000/app") == "[::1]:5000/app:latest");
  CHECK(Normalise("my-registry:5000/a__b/c.d/e---f") == "my-registry:5000/a__b/c.d/e---f:latest");
}

TEST_CASE("image reference: digests pin the manifest") {
  Reference r;
  std::string error;
  REQUIRE(ParseReference("busybox@" + kDigest, &r, &error));
  CHECK(r.tag.empty());
  CHECK(r.digest == kDigest);
  CHECK(r.Object() == kDigest);
  CHECK(r.String() == "docker.io/library/busybox@" + kDigest);
  REQUIRE(ParseReference("host:5000/app:1@" + kDigest, &r, &error));
  CHECK(r.domain == "host:5000");
  CHECK(r.tag == "1");
  CHECK(r.Object() == kDigest);
  CHECK(r.Repository() == "host:5000/app");
}

TEST_CASE("image reference: malformed references are refused with the reason") {
  CHECK(Refused("").find("empty") != std::string::npos);
  CHECK(Refused("Busybox").find("lower-case") != std::string::npos);
  CHECK(Refused("busybox:").find("invalid tag") != std::string::npos);
  CHECK(Refused("busybox:-x").find("invalid tag") != std::string::npos);
  CHECK(Refused("busybox@sha256:abc").find("digest") != std::string::npos);
  CHECK(Refused("busybox@md5:" + std::string(32, 'a')).find("digest") != std::string::npos);
  Refused("a//b");
  Refused("/busybox");
  Refused("busybox/");
  Refused("-bad/x");
  Refused("host:port/x");   // a port must be digits
  Refused("a..b/c");        // '..' inside a component
  Refused("a/b_-c");
  Refused("bad host/x");
  Refused("busybox:" + std::string(129, 't'));
}

TEST_CASE("image digest: validation and sha256") {
  CHECK(IsValidDigest(kDigest));
  CHECK_FALSE(IsValidDigest("sha256:" + std::string(64, 'A')));
  CHECK_FALSE(IsValidDigest("sha256:" + std::string(63, 'a')));
  CHECK_FALSE(IsValidDigest("sha512:" + std::string(64, 'a')));
  CHECK(DigestOf("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.Update("ab", 2);
  CHECK(h.Digest() == DigestOf("ab"));  // Digest() does not end the hasher
  h.Update("c", 1);
  CHECK(h.Digest() == DigestOf("abc"));
}

}  // namespace
