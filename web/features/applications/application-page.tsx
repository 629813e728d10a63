export default function Page() {
  return <h1>TODO applications/application-page</h1>;
}
