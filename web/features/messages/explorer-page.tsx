export default function Page() {
  return <h1>TODO messages/explorer-page</h1>;
}
