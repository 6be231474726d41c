// How the s3 backend resolves credentials, region, endpoint and TLS
// verification from options, the environment and the AWS shared files, as
// boto3 does. Needs no service.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "backends/s3/s3_config.h"
#include "dosna/errors.h"
#include "s3_test_util.h"

namespace dosna::testing {
namespace {

namespace fs = std::filesystem;
using s3::resolve_settings;

// A clean AWS environment: temp shared files and no AWS_* variables.
class S3Resolve : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / unique_name("awsfiles");
    fs::create_directories(dir_);
    write("credentials",
          "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n"
          "\n[other]\naws_access_key_id = OTHERKEY\r\naws_secret_access_key = othersecret\r\n"
          "aws_session_token = othertoken\n");
    write("config",
          "[default]\nregion = eu-west-1\n\n"
          "[profile other]\nregion = ap-south-1\ns3 =\n  endpoint_url = http://nested:1\n"
          "\n[profile confonly]\naws_access_key_id = CONFKEY\naws_secret_access_key = confsecret\n"
          "endpoint_url = http://conf:2\nca_bundle = " + (dir_ / "ca.pem").string() + "\n");
    write("ca.pem", "not really a certificate\n");
    for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                          "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
                          "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE"}) {
      envs_.push_back(std::make_unique<ScopedEnv>(v, std::nullopt));
    }
    envs_.push_back(std::make_unique<ScopedEnv>("AWS_SHARED_CREDENTIALS_FILE", (dir_ / "credentials").string()));
    envs_.push_back(std::make_unique<ScopedEnv>("AWS_CONFIG_FILE", (dir_ / "config").string()));
  }
  void TearDown() override {
    envs_.clear();
    fs::remove_all(dir_);
  }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  void set(const char* name, const std::string& value) {
    envs_.push_back(std::make_unique<ScopedEnv>(name, value));
  }

  fs::path dir_;
  std::vector<std::unique_ptr<ScopedEnv>> envs_;
};

TEST_F(S3Resolve, DefaultProfileFromFiles) {
  auto s = resolve_settings("lbl", {});
  EXPECT_EQ(s.access_key, "FILEKEY");
  EXPECT_EQ(s.secret_key, "filesecret");
  EXPECT_EQ(s.region, "eu-west-1");
  EXPECT_EQ(s.endpoint_url, "https://s3.eu-west-1.amazonaws.com");
  EXPECT_TRUE(s.verify);
}

TEST_F(S3Resolve, EnvironmentWinsUnlessAProfileIsNamed) {
  set("AWS_ACCESS_KEY_ID", "ENVKEY");
  set("AWS_SECRET_ACCESS_KEY", "envsecret");
  set("AWS_SESSION_TOKEN", "envtoken");
  auto s = resolve_settings("lbl", {});
  EXPECT_EQ(s.access_key, "ENVKEY");
  EXPECT_EQ(s.session_token, "envtoken");
  auto named = resolve_settings("lbl", {{"profile_name", "other"}});
  EXPECT_EQ(named.access_key, "OTHERKEY");  // botocore: an explicit profile skips the env
  EXPECT_EQ(named.secret_key, "othersecret");
  EXPECT_EQ(named.session_token, "othertoken");
  EXPECT_EQ(named.region, "ap-south-1");
  EXPECT_EQ(named.endpoint_url, "http://nested:1");  // the s3 = sub-section
  // Python passes profile_name=None when not given.
  EXPECT_EQ(resolve_settings("lbl", {{"profile_name", "None"}}).access_key, "ENVKEY");
}

TEST_F(S3Resolve, AwsProfileAndConfigOnlyCredentials) {
  set("AWS_PROFILE", "confonly");
  auto s = resolve_settings("lbl", {});
  EXPECT_EQ(s.profile_name, "confonly");
  EXPECT_EQ(s.access_key, "CONFKEY");
  EXPECT_EQ(s.endpoint_url, "http://conf:2");
  EXPECT_EQ(s.ca_bundle, (dir_ / "ca.pem").string());
  EXPECT_EQ(s.region, "us-east-1");
}

TEST_F(S3Resolve, Precedence) {
  set("AWS_DEFAULT_REGION", "us-west-2");
  EXPECT_EQ(resolve_settings("lbl", {}).region, "us-west-2");
  set("AWS_REGION", "us-west-1");
  EXPECT_EQ(resolve_settings("lbl", {}).region, "us-west-1");
  EXPECT_EQ(resolve_settings("lbl", {{"region", "sa-east-1"}}).region, "sa-east-1");
  set("AWS_ENDPOINT_URL", "http://generic:3/");
  EXPECT_EQ(resolve_settings("lbl", {}).endpoint_url, "http://generic:3");
  set("AWS_ENDPOINT_URL_S3", "http://s3only:4");
  EXPECT_EQ(resolve_settings("lbl", {}).endpoint_url, "http://s3only:4");
  EXPECT_EQ(resolve_settings("lbl", {{"endpoint_url", "http://opt:5"}}).endpoint_url, "http://opt:5");
}

TEST_F(S3Resolve, Verify) {
  EXPECT_FALSE(resolve_settings("lbl", {{"verify", "False"}}).verify);
  EXPECT_TRUE(resolve_settings("lbl", {{"verify", "true"}}).verify);
  auto s = resolve_settings("lbl", {{"verify", (dir_ / "ca.pem").string()}});
  EXPECT_TRUE(s.verify);
  EXPECT_EQ(s.ca_bundle, (dir_ / "ca.pem").string());
  EXPECT_THROW(resolve_settings("lbl", {{"verify", (dir_ / "nope.pem").string()}}), InvalidArgument);
}

TEST_F(S3Resolve, MissingCredentialsAndProfiles) {
  write("credentials", "");
  write("config", "");
  try {
    resolve_settings("lbl", {});
    FAIL() << "no credentials accepted";
  } catch (const PermissionDenied& e) {
    EXPECT_NE(std::string(e.what()).find("lbl"), std::string::npos);
  }
  EXPECT_THROW(resolve_settings("lbl", {{"profile_name", "ghost"}}), NotFound);
  // A half-set environment is not credentials.
  set("AWS_ACCESS_KEY_ID", "ENVKEY");
  EXPECT_THROW(resolve_settings("lbl", {}), PermissionDenied);
}

TEST_F(S3Resolve, BadOptions) {
  EXPECT_THROW(resolve_settings("lbl", {{"endpoint", "x"}}), InvalidArgument);
  EXPECT_THROW(resolve_settings("lbl", {{"endpoint_url", "http://user:pw@host"}}), InvalidArgument);
  EXPECT_THROW(resolve_settings("lbl", {{"region", "us east"}}), InvalidArgument);
  EXPECT_THROW(resolve_settings("lbl", {{"max_retries", "-1"}}), InvalidArgument);
  EXPECT_THROW(resolve_settings("lbl", {{"timeout", "0"}}), InvalidArgument);
  EXPECT_THROW(resolve_settings("lbl", {{"deadline", "0"}}), InvalidArgument);
  auto s = resolve_settings("lbl", {{"max_in_flight", "3"}, {"max_retries", "0"}});
  EXPECT_EQ(s.max_in_flight, 3);
  EXPECT_EQ(s.max_retries, 0);
}

TEST_F(S3Resolve, DeadlineDefaultsBoundEveryRequest) {
  auto s = resolve_settings("lbl", {});
  EXPECT_EQ(s.deadline_seconds, 60.0);
  EXPECT_EQ(s.timeout_seconds, 60.0);  // one attempt may use the whole deadline
  EXPECT_EQ(s.stall_seconds, 20.0);
  EXPECT_EQ(s.connect_timeout_seconds, 5.0);
  auto t = resolve_settings("lbl", {{"deadline", "7.5"}});
  EXPECT_EQ(t.deadline_seconds, 7.5);
  EXPECT_EQ(t.timeout_seconds, 7.5);
  EXPECT_EQ(resolve_settings("lbl", {{"deadline", "9"}, {"timeout", "2"}}).timeout_seconds, 2.0);
}

TEST_F(S3Resolve, EndpointUrlIsOnlySchemeHostPortAndPath) {
  for (const char* good : {"http://127.0.0.1:7480", "https://s3.example.com", "http://h:1/prefix/",
                           "http://[::1]:7480", "https://[::ffff:127.0.0.1]:443"}) {
    EXPECT_NO_THROW(resolve_settings("lbl", {{"endpoint_url", good}})) << good;
  }
  EXPECT_EQ(resolve_settings("lbl", {{"endpoint_url", "http://h:1/prefix/"}}).endpoint_url, "http://h:1/prefix");
  const std::pair<const char*, const char*> bad[] = {
      {"http://127.0.0.1:7480?x=1", "query"},
      {"http://127.0.0.1:7480/?X-Amz-Signature=0123abcd", "query"},
      {"http://h:1#frag", "fragment"},
      {"http://h :1", "space"},
      {"http://h:1/\x01", "control"},
      {"http://h:99999", "port"},
      {"http://h:x1", "port"},
      {"http://:80", "no host"},
      {"http://user:pw@host", "credentials"},
      {"ftp://host", "http://"},
  };
  for (const auto& [url, why] : bad) {
    try {
      resolve_settings("lbl", {{"endpoint_url", url}});
      ADD_FAILURE() << url << " accepted";
    } catch (const InvalidArgument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("endpoint_url"), std::string::npos) << what;
      EXPECT_NE(what.find(why), std::string::npos) << what;
      // Never echoed: a presigned URL's signature, a password.
      EXPECT_EQ(what.find("0123abcd"), std::string::npos) << what;
      EXPECT_EQ(what.find("pw"), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace dosna::testing
