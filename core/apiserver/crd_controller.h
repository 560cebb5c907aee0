// CrdController: serves custom resources from CustomResourceDefinitions.
// It follows the CRDs in the store: keeps the set of served custom types
// current, marks new CRDs NamesAccepted and Established (scripts wait for
// that), and when a CRD is deleted removes its custom objects before
// letting the CRD go (the customresourcecleanup finalizer).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "store/store.h"

namespace kubit::apiserver {

class CrdController {
 public:
  explicit CrdController(store::Store* state) : state_(state) {}
  ~CrdController();
  store::Status Start();
  void Stop();

  static const char* kCleanupFinalizer;

 private:
  void Run();
  void Sync();  // one pass over every CRD
  void SafeSync();
  store::Store* state_;
  std::unique_ptr<store::Watcher> watcher_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::string served_signature_;  // what the served set was made from
};

}  // namespace kubit::apiserver
