// IngressProxy: a node's part of Ingress. Watches Ingresses,
// IngressClasses, Services and EndpointSlices (and reads the TLS Secrets
// the served Ingresses name, one by one, as a node may), builds the route
// table (ingress_routes.h) and runs net::HttpProxy on the node's ports
// 80 and 443 while IngressClass "kubit" exists. Changes are gathered for
// a moment and applied together; Secrets are read again every
// `refresh`, so a renewed certificate is served without a restart.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "net/http_proxy.h"

namespace kubit::network {

struct IngressProxyOptions {
  net::HttpProxyOptions proxy;  // ports, bind address
  std::chrono::milliseconds refresh{15000};
  std::chrono::milliseconds debounce{100};
  std::function<void(bool error, const std::string& message)> log;
};

class IngressProxy {
 public:
  // `client` must outlive the proxy.
  IngressProxy(client::Client* client, IngressProxyOptions options);
  ~IngressProxy();  // stops
  IngressProxy(const IngressProxy&) = delete;
  IngressProxy& operator=(const IngressProxy&) = delete;

  void Start();
  void Stop();
  // Whether the proxy listens now, and where (tests).
  bool Serving(int* http_port, int* https_port) const;

 private:
  void Run();
  void Changed();
  void Sync();
  client::ObjectPtr Secret(const std::string& ns, const std::string& name);
  void Log(bool error, const std::string& message) const;

  client::Client* client_;
  IngressProxyOptions opts_;
  client::SharedInformerFactory informers_;
  client::Informer* ingresses_;
  client::Informer* classes_;
  client::Informer* services_;
  client::Informer* slices_;

  mutable std::mutex mu_;  // the fields below
  std::condition_variable cv_;
  bool dirty_ = true, stop_ = false, started_ = false;
  std::unique_ptr<net::HttpProxy> proxy_;

  // Used by the sync thread alone.
  struct CachedSecret {
    client::ObjectPtr object;  // null: not found
    std::chrono::steady_clock::time_point read;
  };
  std::map<std::string, CachedSecret> secrets_;
  std::string last_problems_, last_start_error_;
  bool announced_off_ = false;  // "the proxy is off" said since it last ran
  std::thread thread_;
};

}  // namespace kubit::network
