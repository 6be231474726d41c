// Store URIs (dosna/store_uri.h): parse and print round trip, the errors
// naming what is wrong, credentials never printed, and Connection::open.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/store_uri.h"

namespace dosna {
namespace {

TEST(StoreUri, ParsesEachKind) {
  auto ram = parse_store_uri("ram://scratch");
  EXPECT_EQ(ram.backend, "ram");
  EXPECT_EQ(ram.name, "scratch");
  EXPECT_TRUE(ram.options.empty());

  auto abs = parse_store_uri("hdf5:///abs/dir/name");
  EXPECT_EQ(abs.backend, "hdf5");
  EXPECT_EQ(abs.name, "name");
  EXPECT_EQ(abs.options, (Options{{"directory", "/abs/dir"}}));

  auto rel = parse_store_uri("hdf5://relative/name/");
  EXPECT_EQ(rel.name, "name");
  EXPECT_EQ(rel.options, (Options{{"directory", "relative"}}));

  EXPECT_EQ(parse_store_uri("hdf5://name").options, Options{});
  EXPECT_EQ(parse_store_uri("file:///store").options, (Options{{"directory", "/"}}));
  auto file = parse_store_uri("file:///data/store");
  EXPECT_EQ(file.name, "store");
  EXPECT_EQ(file.options, (Options{{"directory", "/data"}}));

  auto ceph = parse_store_uri("ceph://pool?conffile=/etc/ceph/ceph.conf&timeout=2");
  EXPECT_EQ(ceph.name, "pool");
  EXPECT_EQ(ceph.options, (Options{{"conffile", "/etc/ceph/ceph.conf"}, {"timeout", "2"}}));

  auto s3 = parse_store_uri("s3://label?endpoint_url=http://127.0.0.1:7480");
  EXPECT_EQ(s3.name, "label");
  EXPECT_EQ(s3.options, (Options{{"endpoint_url", "http://127.0.0.1:7480"}}));
}

TEST(StoreUri, PercentDecodesPathAndQuery) {
  auto s = parse_store_uri("hdf5:///tmp/a%20b+c?open%5Fmode=r&x=a%26b%3Dc");
  EXPECT_EQ(s.name, "a b+c");
  EXPECT_EQ(s.options, (Options{{"directory", "/tmp"}, {"open_mode", "r"}, {"x", "a&b=c"}}));
}

TEST(StoreUri, PrintsAndParsesBack) {
  for (const std::string uri :
       {"ram://scratch", "hdf5:///abs/dir/name", "hdf5://relative/name", "hdf5://name",
        "file:///data/store", "file:///store", "ceph://pool?conffile=/etc/ceph/ceph.conf",
        "s3://label?endpoint_url=http://127.0.0.1:7480&verify=false"}) {
    EXPECT_EQ(to_string(parse_store_uri(uri)), uri);
  }
  // Reserved characters are escaped so that the printed URI parses back.
  const StoreUri odd{"ceph", "p?o&l", {{"conffile", "/a b/c&d=e.conf"}, {"k=", "v?"}}};
  const std::string printed = to_string(odd);
  const StoreUri back = parse_store_uri(printed);
  EXPECT_EQ(back.backend, odd.backend) << printed;
  EXPECT_EQ(back.name, odd.name) << printed;
  EXPECT_EQ(back.options, odd.options) << printed;
  const StoreUri spaced{"hdf5", "a b", {{"directory", "/x y"}}};
  EXPECT_EQ(to_string(spaced), "hdf5:///x%20y/a%20b");
  EXPECT_EQ(parse_store_uri(to_string(spaced)).options, spaced.options);
}

TEST(StoreUri, NeverPrintsCredentials) {
  const StoreUri s3{"s3",
                    "label",
                    {{"endpoint_url", "http://h:1"},
                     {"aws_access_key_id", "AKIDSECRET1"},
                     {"aws_secret_access_key", "SECRET2"},
                     {"aws_session_token", "SECRET3"}}};
  const std::string printed = to_string(s3);
  EXPECT_EQ(printed, "s3://label?endpoint_url=http://h:1");
  EXPECT_EQ(printed.find("SECRET"), std::string::npos) << printed;
  EXPECT_EQ(to_string(parse_store_uri("s3://x?aws_secret_access_key=SECRET")), "s3://x");
}

void expect_invalid(const std::string& uri, const std::string& what) {
  try {
    parse_store_uri(uri);
    ADD_FAILURE() << uri << " parsed";
  } catch (const InvalidArgument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(what), std::string::npos) << uri << ": " << msg;
  }
}

TEST(StoreUri, BadUrisNameWhatIsWrong) {
  expect_invalid("scratch", "is not a URI");
  expect_invalid("nfs://x", "unknown backend 'nfs'");
  expect_invalid("nfs://x", "hdf5");  // lists the known kinds
  expect_invalid("://x", "unknown backend ''");
  expect_invalid("ram://", "names no ram store");
  expect_invalid("hdf5:///", "names no hdf5 store");
  expect_invalid("ram://a?b", "query item 'b' is not key=value");
  expect_invalid("ram://a?=b", "query item '=b' is not key=value");
  expect_invalid("ceph://p?conffile=/x&conffile=/y", "'conffile' is given twice");
  expect_invalid("hdf5:///d/n?directory=/e", "'directory' is not allowed");
  expect_invalid("ram://a?name=b", "'name' is not allowed");
  expect_invalid("ram://a%2", "bad percent escape");
  expect_invalid("ram://a?k=%zz", "bad percent escape");
  EXPECT_THROW(to_string(StoreUri{"nfs", "x", {}}), InvalidArgument);
}

TEST(StoreUri, SameStore) {
  const auto cwd = std::filesystem::current_path().string();
  EXPECT_TRUE(same_store(parse_store_uri("hdf5://s"), parse_store_uri("hdf5://" + cwd + "/s")));
  EXPECT_TRUE(same_store(parse_store_uri("hdf5:///a/b/../s"), parse_store_uri("hdf5:///a/s")));
  EXPECT_FALSE(same_store(parse_store_uri("hdf5:///a/s"), parse_store_uri("file:///a/s")));
  EXPECT_FALSE(same_store(parse_store_uri("hdf5:///a/s"), parse_store_uri("hdf5:///b/s")));
  EXPECT_TRUE(same_store(parse_store_uri("ram://x"), parse_store_uri("ram://x")));
  EXPECT_FALSE(same_store(parse_store_uri("ram://x"), parse_store_uri("ram://y")));
  EXPECT_FALSE(same_store(parse_store_uri("ceph://p?conffile=/a"),
                          parse_store_uri("ceph://p?conffile=/b")));
}

TEST(StoreUri, ConnectionOpen) {
  Connection con = Connection::open("ram://store_uri_test?max_chunk_bytes=4096");
  EXPECT_TRUE(con.connected());
  EXPECT_EQ(con.config().backend, "ram");
  EXPECT_EQ(con.name(), "store_uri_test");
  EXPECT_EQ(con.uri(), "ram://store_uri_test?max_chunk_bytes=4096");
  EXPECT_EQ(con.backend().max_chunk_bytes(), 4096u);
  con.create_dataset("d", Shape{4});
  // Options given beside the URI override its query.
  Connection again =
      Connection::open("ram://store_uri_test?max_chunk_bytes=4096", {{"max_chunk_bytes", "64"}});
  EXPECT_EQ(again.backend().max_chunk_bytes(), 64u);
  EXPECT_EQ(again.uri(), "ram://store_uri_test?max_chunk_bytes=64");
  EXPECT_THROW(Connection::open("ram://x?bogus=1"), InvalidArgument);
  EXPECT_THROW(Connection::open("nfs://x"), InvalidArgument);
}

TEST(StoreUri, ConnectionOpenFileStore) {
  const auto dir = std::filesystem::temp_directory_path() / "dosna_store_uri_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "store");
  {
    Connection con = Connection::open("file://" + dir.string() + "/store");
    EXPECT_EQ(con.uri(), "file://" + dir.string() + "/store");
    con.create_dataset("d", Shape{3});
    EXPECT_EQ(con.list_datasets(), std::vector<std::string>{"d"});
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dosna
