// kubit ctr images pull|import|ls|rm|prune: the images of a data dir, as
// containerd's `ctr images` (and k3s's `k3s ctr images`) show them. Works
// with or without a running kubit: runtime/image locks what it changes.
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cmd/kubit/commands.h"
#include "cmd/kubit/flags.h"
#include "runtime/container/runtime.h"
#include "runtime/image/image_store.h"

namespace kubit::cmd {
namespace {

namespace img = kubit::runtime::image;

struct Common {
  std::string data_dir = "/var/lib/kubit";
  std::string private_registry;
  void Add(FlagSet* f) {
    f->String("data-dir", &data_dir, "Folder that holds kubit's state");
    f->String("private-registry", &private_registry, "Registry configuration file (k3s registries.yaml format)");
  }
};

std::unique_ptr<img::ImageStore> OpenStore(const Common& c) {
  img::ImageStoreOptions o;
  o.data_dir = c.data_dir;
  o.private_registry = c.private_registry;
  std::string error;
  auto store = img::ImageStore::Open(o, &error);
  if (!store) fprintf(stderr, "Error: %s\n", error.c_str());
  return store;
}

std::string HumanSize(int64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  char buf[32];
  snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string Short(const std::string& digest) { return digest.substr(0, 7 + 12); }

// The images containers of this data dir were made from, running or not
// (containerd, too, keeps an image while any container refers to it).
bool InUseImages(const std::string& data_dir, img::InUse* out) {
  runtime::container::Runtime rt(data_dir);
  std::vector<runtime::container::ContainerInfo> containers;
  std::string error;
  if (!rt.List(&containers, &error)) {
    fprintf(stderr, "Error: listing containers to see which images are in use: %s\n", error.c_str());
    return false;
  }
  for (const auto& c : containers)
    if (!c.image.empty()) out->insert(c.image);
  return true;
}

// Progress of a pull. On a terminal, one line per blob redrawn in place
// (bytes done / total); otherwise one line per blob as it completes.
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(isatty(STDOUT_FILENO)) {}

  void Update(const img::PullProgress& p) {
    Row& r = rows_[p.digest];
    if (r.what.empty()) order_.push_back(p.digest);
    r.what = p.what;
    r.done = p.done;
    r.total = p.total;
    r.finished = p.finished;
    r.cached = p.cached;
    if (!tty_) {
      if (p.finished) {
        printf("%s %s: %s\n", p.what.c_str(), Short(p.digest).c_str(),
               p.cached ? "exists" : ("done " + HumanSize(p.total)).c_str());
        fflush(stdout);
      }
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (p.finished || now - last_ > std::chrono::milliseconds(100)) {
      last_ = now;
      Draw();
    }
  }

  void Done() {
    if (tty_) Draw();
  }

 private:
  struct Row {
    std::string what;
    int64_t done = 0, total = 0;
    bool finished = false, cached = false;
  };

  void Draw() {
    if (drawn_ > 0) printf("\x1b[%zuA", drawn_);
    for (const auto& d : order_) {
      const Row& r = rows_[d];
      std::string state = r.cached     ? "exists"
                          : r.finished ? "done " + HumanSize(r.total)
                                       : HumanSize(r.done) + " / " + HumanSize(r.total);
      printf("\r\x1b[K%-8s %s: %s\n", r.what.c_str(), Short(d).c_str(), state.c_str());
    }
    drawn_ = order_.size();
    fflush(stdout);
  }

  bool tty_;
  std::map<std::string, Row> rows_;
  std::vector<std::string> order_;
  size_t drawn_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

int Pull(const Args& args, Common c) {
  FlagSet f("kubit ctr images pull [flags] REF",
            "Pull an image from its registry (mirrors, credentials and TLS from --private-registry),\n"
            "verify every blob and unpack its layers. Short names are docker.io images:\n"
            "busybox is docker.io/library/busybox:latest.");
  c.Add(&f);
  std::vector<std::string> pos;
  if (int rc = f.ParseCommand(args, &pos, 1, 1); rc >= 0) return rc;
  auto store = OpenStore(c);
  if (!store) return 1;
  ProgressPrinter printer;
  img::Image image;
  std::string error;
  bool ok = store->Pull(pos[0], [&](const img::PullProgress& p) { printer.Update(p); }, &image, &error);
  printer.Done();
  if (!ok) {
    fprintf(stderr, "Error: %s\n", error.c_str());
    return 1;
  }
  printf("unpacked %s (%s)\n", image.name.c_str(), image.digest.c_str());
  return 0;
}

int Import(const Args& args, Common c) {
  FlagSet f("kubit ctr images import [flags] FILE...",
            "Import images from tarballs made by `docker save` or in the OCI image layout\n"
            "(`ctr images export`, `skopeo copy ... oci-archive:FILE`), plain, gzip or zstd.\n"
            "Their layers are unpacked at once.");
  c.Add(&f);
  std::vector<std::string> pos;
  if (int rc = f.ParseCommand(args, &pos, 1, SIZE_MAX); rc >= 0) return rc;
  auto store = OpenStore(c);
  if (!store) return 1;
  int rc = 0;
  for (const auto& file : pos) {
    std::vector<std::string> names;
    std::string error;
    if (!store->Import(file, &names, &error)) {
      fprintf(stderr, "Error: %s\n", error.c_str());
      rc = 1;
      continue;
    }
    for (const auto& n : names) printf("imported %s\n", n.c_str());
  }
  return rc;
}

int List(const Args& args, Common c) {
  bool quiet = false;
  FlagSet f("kubit ctr images ls [flags]", "List the images: name, manifest type, digest, layer size and platform.");
  c.Add(&f);
  f.Bool("quiet", &quiet, "Print only the image names");
  std::vector<std::string> pos;
  Args a = args;
  for (auto& x : a)
    if (x == "-q") x = "--quiet";
  if (int rc = f.ParseCommand(a, &pos, 0, 0); rc >= 0) return rc;
  auto store = OpenStore(c);
  if (!store) return 1;
  std::string error;
  std::vector<img::ImageRecord> records = store->List(&error);
  if (!error.empty()) {
    fprintf(stderr, "Error: %s\n", error.c_str());
    return 1;
  }
  if (quiet) {
    for (const auto& r : records) printf("%s\n", r.name.c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"}};
  for (const auto& r : records) rows.push_back({r.name, r.media_type, r.digest, HumanSize(r.size), r.platform, "-"});
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); i++) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); i++) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 1, ' ');
    }
    printf("%s\n", line.c_str());
  }
  return 0;
}

int Remove(const Args& args, Common c) {
  FlagSet f("kubit ctr images rm [flags] REF...",
            "Remove images by name (or image ID). Layers and blobs no other image uses are removed\n"
            "too. An image a container of this data dir was made from is refused.");
  c.Add(&f);
  std::vector<std::string> pos;
  if (int rc = f.ParseCommand(args, &pos, 1, SIZE_MAX); rc >= 0) return rc;
  auto store = OpenStore(c);
  img::InUse in_use;
  if (!store || !InUseImages(c.data_dir, &in_use)) return 1;
  int rc = 0;
  for (const auto& ref : pos) {
    std::string error;
    if (!store->Remove(ref, in_use, &error)) {
      fprintf(stderr, "Error: %s\n", error.c_str());
      rc = 1;
      continue;
    }
    printf("%s\n", ref.c_str());
  }
  return rc;
}

int Prune(const Args& args, Common c) {
  bool all = false;
  FlagSet f("kubit ctr images prune --all [flags]",
            "Remove every image no container of this data dir was made from, with the layers and\n"
            "blobs only they used.");
  c.Add(&f);
  f.Bool("all", &all, "Remove all unused images (required, as in ctr)");
  std::vector<std::string> pos;
  if (int rc = f.ParseCommand(args, &pos, 0, 0); rc >= 0) return rc;
  if (!all) {
    fprintf(stderr, "Error: prune removes every unused image: confirm with --all\n");
    return 2;
  }
  auto store = OpenStore(c);
  img::InUse in_use;
  if (!store || !InUseImages(c.data_dir, &in_use)) return 1;
  std::vector<std::string> removed;
  std::string error;
  if (!store->Prune(in_use, &removed, &error)) {
    fprintf(stderr, "Error: %s\n", error.c_str());
    return 1;
  }
  for (const auto& n : removed) printf("%s\n", n.c_str());
  return 0;
}

const char kUsage[] =
    "Manage the images of a data dir (as `ctr images`).\n\n"
    "Usage:\n  kubit ctr [--data-dir D] [--private-registry F] images COMMAND [flags]\n\n"
    "Commands:\n"
    "  pull REF        fetch an image from its registry and unpack it\n"
    "  import FILE...  import docker save or OCI layout tarballs\n"
    "  ls              list images (alias: list)\n"
    "  rm REF...       remove images not in use (aliases: remove, delete, del)\n"
    "  prune --all     remove every image not in use\n\n"
    "Use \"kubit ctr images COMMAND --help\" for the flags of a command.\n";

}  // namespace

int CtrImagesCommand(const Args& args) {
  // --data-dir and --private-registry may come before the command (from
  // `kubit ctr --data-dir D images ...`) as well as after it.
  Common c;
  size_t i = 0;
  for (; i < args.size(); i++) {
    const std::string& a = args[i];
    std::string* target = nullptr;
    std::string name = a.substr(0, a.find('='));
    if (name == "--data-dir") target = &c.data_dir;
    else if (name == "--private-registry") target = &c.private_registry;
    else break;
    if (a.find('=') != std::string::npos) {
      *target = a.substr(a.find('=') + 1);
    } else if (i + 1 < args.size()) {
      *target = args[++i];
    } else {
      fprintf(stderr, "Error: flag needs a value: %s\n", a.c_str());
      return 2;
    }
  }
  if (i >= args.size()) {
    fputs(kUsage, stderr);
    return 2;
  }
  std::string cmd = args[i];
  Args rest(args.begin() + static_cast<long>(i) + 1, args.end());
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "pull") return Pull(rest, c);
  if (cmd == "import") return Import(rest, c);
  if (cmd == "ls" || cmd == "list") return List(rest, c);
  if (cmd == "rm" || cmd == "remove" || cmd == "delete" || cmd == "del") return Remove(rest, c);
  if (cmd == "prune") return Prune(rest, c);
  fprintf(stderr, "Error: unknown command \"images %s\"\n\n%s", cmd.c_str(), kUsage);
  return 2;
}

}  // namespace kubit::cmd
