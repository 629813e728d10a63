export default function Page() {
  return <h1>TODO applications/applications-page</h1>;
}
