// The s3 backend over TLS against radosgw's https endpoint, whose certificate
// scripts/local-services.sh signs with a CA of its own (DOSNA_S3_CA_BUNDLE):
// verify=<CA bundle> works, default verification refuses the unknown CA with
// a typed error (never falling back to plain http), verify=False works and
// warns once that it is insecure.
#include <algorithm>
#include <mutex>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "dosna/warnings.h"
#include "s3_test_util.h"

namespace dosna::testing {
namespace {

// Collects dosna::warn() messages for a scope.
class CapturedWarnings {
 public:
  CapturedWarnings() {
    old_ = set_warning_handler([this](const std::string& m) {
      std::lock_guard lock(mutex_);
      messages_.push_back(m);
    });
  }
  ~CapturedWarnings() { set_warning_handler(std::move(old_)); }
  CapturedWarnings(const CapturedWarnings&) = delete;
  CapturedWarnings& operator=(const CapturedWarnings&) = delete;
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> messages_;
  WarningHandler old_;
};

class S3Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    DOSNA_S3_STORE_OR_SKIP(store);
    DOSNA_ENV_OR_SKIP(https, "DOSNA_S3_HTTPS_ENDPOINT");
    DOSNA_ENV_OR_SKIP(ca, "DOSNA_S3_CA_BUNDLE");
    label_ = store.config.name;
    https_ = https;
    ca_ = ca;
  }
  std::string connect_error(const Options& options) {
    try {
      make_backend("s3", label_, options)->connect();
    } catch (const ConnectionError& e) {
      return e.what();
    }
    ADD_FAILURE() << "connect succeeded";
    return "";
  }

  std::string label_, https_, ca_;
};

TEST_F(S3Tls, VerifiedWithTheCaBundle) {
  // Both names in the certificate: the IP address and localhost.
  const std::string port = https_.substr(https_.rfind(':'));
  for (const std::string& url : {https_, "https://localhost" + port}) {
    Connection con(label_, {{"endpoint_url", url}, {"verify", ca_}}, "s3");
    con.connect();
    const std::string name = s3_dataset_name("tls");
    Dataset ds = con.create_dataset(name, {20, 30}, DType::parse("<f8"), {8, 8}, Scalar(-1.0));
    NdArray a = NdArray::uninitialized(DType::parse("<f8"), {20, 30});
    auto v = a.values<double>();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i) * 0.25;
    ds.load(a.view());
    NdArray back = ds.read();
    EXPECT_TRUE(std::equal(v.begin(), v.end(), back.values<double>().begin())) << url;
    const auto names = con.list_datasets();
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << url;
    con.del_dataset(name);
    EXPECT_FALSE(con.has_dataset(name));
  }
}

TEST_F(S3Tls, UnknownCaIsAConnectionErrorNamingTheFix) {
  // The default (the system's CAs) and a real bundle without our CA.
  for (const Options& options :
       {Options{{"endpoint_url", https_}},
        Options{{"endpoint_url", https_}, {"verify", "True"}},
        Options{{"endpoint_url", https_}, {"verify", "/etc/ssl/certs/ca-certificates.crt"}}}) {
    const std::string what = connect_error(options);
    EXPECT_NE(what.find("TLS"), std::string::npos) << what;
    EXPECT_NE(what.find("not trusted"), std::string::npos) << what;
    EXPECT_NE(what.find(https_), std::string::npos) << what;
    EXPECT_NE(what.find("verify=<CA bundle path>"), std::string::npos) << what;
    EXPECT_NE(what.find("1 attempt in"), std::string::npos) << what;  // not retried
  }
  // Another name of the same address than the certificate's (127.0.0.1 and
  // localhost) is refused too, even with the CA.
  const std::string port = https_.substr(https_.rfind(':'));
  const std::string what =
      connect_error({{"endpoint_url", "https://[::ffff:127.0.0.1]" + port}, {"verify", ca_}});
  EXPECT_NE(what.find("not trusted"), std::string::npos) << what;
}

TEST_F(S3Tls, VerifyFalseWorksAndWarnsOnce) {
  CapturedWarnings warnings;
  const Options options{{"endpoint_url", https_}, {"verify", "False"}};
  for (int i = 0; i < 3; ++i) {
    Connection con(label_, options, "s3");
    con.connect();
    EXPECT_NO_THROW(con.list_datasets());
  }
  const auto messages = warnings.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("insecure"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find(https_), std::string::npos) << messages[0];
  // Plain http has nothing to verify: no warning.
  Connection plain(label_, {{"endpoint_url", std::getenv("DOSNA_S3_ENDPOINT")}, {"verify", "False"}}, "s3");
  plain.connect();
  EXPECT_EQ(warnings.messages().size(), 1u);
}

}  // namespace
}  // namespace dosna::testing
